# A package that loads its submodules when one of their names is first asked for, the way
# MicroPython's own packages do: a relative __import__ with no globals.
_where = {"ping": "wire", "Frame": "wire", "VERSION": "meta"}


def __getattr__(name):
    sub = _where.get(name)
    if sub is None:
        raise AttributeError(name)
    value = getattr(__import__(sub, None, None, True, 1), name)
    globals()[name] = value
    return value
