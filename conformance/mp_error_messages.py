# The messages of the errors the interpreter itself raises, as MicroPython words them, and
# the names it shows them under (it has no UnboundLocalError or ModuleNotFoundError).
import sys

for f in [
    lambda: 1 / 0,
    lambda: 1 // 0,
    lambda: 1 % 0,
    lambda: divmod(7, 0),
    lambda: 1.5 / 0,
    lambda: 1.5 // 0.0,
    lambda: 2.5 % 0,
    lambda: undefined_name,
]:
    try:
        f()
    except Exception as e:
        print(repr(e), "|", e)


def uses_before_assigning():
    print(x)
    x = 1


for f in [uses_before_assigning, lambda: __import__("no_such_module_here")]:
    try:
        f()
    except Exception as e:
        print(repr(e), isinstance(e, NameError), isinstance(e, ImportError))
        sys.print_exception(e, sys.stdout)
