# Attribute lookup on modules: plain names, names added and removed at run time, a module
# __getattr__, a subclass whose property outranks the module dict, and the error for a
# missing name.
import asyncio
import sys

Module = type(sys)

m = Module("m")
m.value = 1
print(m.value, m.__name__)
m.value = 2
print(m.value)
del m.value
try:
    m.value
except AttributeError as e:
    print("AttributeError:", e)

m.__getattr__ = lambda name: "lazy " + name
print(m.anything, m.__name__)
del m.__getattr__


class Special(Module):
    @property
    def shadowed(self):
        return "property"


s = Special("s")
s.__dict__["shadowed"] = "dict"
s.plain = "plain"
print(s.shadowed, s.plain)

print(asyncio.sleep.__name__, callable(asyncio.create_task))
try:
    asyncio.no_such_function
except AttributeError as e:
    print("AttributeError:", e)
