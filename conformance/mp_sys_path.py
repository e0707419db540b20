# sys.path as MicroPython's unix port builds it for a script: the script's directory made
# absolute, then the built-in modules, the user's library and the system's library.
import os
import sys

first = sys.path[0]
print(first.startswith("/"), first.split("/")[-1])
home = os.getenv("HOME")
print([p.replace(home, "~") if home else p for p in sys.path[1:]])
print(type(sys.path), len(sys.path))
