"""`_thread._local`: attributes with a value per thread (CPython's `threading.local`).

Each instance keeps one attribute dict per thread ident. A thread that first touches an
instance gets a fresh dict, and a subclass's `__init__` runs again for it with the arguments
the instance was made with, as in CPython. A thread's dict stays until the instance goes.
"""

import _thread

_ident = _thread.get_ident
_get = object.__getattribute__
_set = object.__setattr__


def _own_dict(self):
    dicts = _get(self, "_dicts")
    me = _ident()
    d = dicts.get(me)
    if d is None:
        d = dicts[me] = {}
        args, kwargs = _get(self, "_args")
        init = type(self).__init__
        if init is not object.__init__:
            init(self, *args, **kwargs)
    return d


def _class_attr(cls, name):
    for klass in cls.__mro__:
        if name in klass.__dict__:
            return True, klass.__dict__[name]
    return False, None


class _local:
    __slots__ = ("_dicts", "_args", "__weakref__")

    def __new__(cls, *args, **kwargs):
        if (args or kwargs) and cls.__init__ is object.__init__:
            raise TypeError("Initialization arguments are not supported")
        self = object.__new__(cls)
        _set(self, "_args", (args, kwargs))
        # The creating thread's dict is made now; its __init__ runs through the usual call.
        _set(self, "_dicts", {_ident(): {}})
        return self

    def __getattribute__(self, name):
        if name in ("_dicts", "_args"):
            return _get(self, name)
        d = _own_dict(self)
        if name == "__dict__":
            return d
        found, attr = _class_attr(type(self), name)
        if found and hasattr(type(attr), "__set__"):
            return _get(self, name)
        if name in d:
            return d[name]
        return _get(self, name)

    def __setattr__(self, name, value):
        if name == "__dict__":
            raise AttributeError("%r object attribute '__dict__' is read-only" % type(self).__name__)
        found, attr = _class_attr(type(self), name)
        if found and hasattr(type(attr), "__set__"):
            return _set(self, name, value)
        _own_dict(self)[name] = value

    def __delattr__(self, name):
        d = _own_dict(self)
        if name not in d:
            raise AttributeError(name)
        del d[name]
