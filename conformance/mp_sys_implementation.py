# sys.implementation as MicroPython describes itself: libraries pick their MicroPython code
# path by its name. (CPython says "cpython", so this script is MicroPython's only.)
import sys

impl = sys.implementation
print(impl.name)
print(type(impl.version) is tuple, len(impl.version), impl.version[:2] >= (1, 20))
print(impl._machine.startswith("linux"), impl._machine.endswith(" version"))
print(hasattr(impl, "_build"))
print(sys.platform)
