# __import__(name, None, None, True, 1) from inside a package resolves against that package.
import mp_lazy_pkg

print("imported")
print(mp_lazy_pkg.ping())
print(mp_lazy_pkg.ping())
print(mp_lazy_pkg.Frame.__name__)
print(mp_lazy_pkg.VERSION)
try:
    mp_lazy_pkg.missing
except AttributeError as e:
    print("AttributeError", e)
m = __import__("mp_lazy_pkg.meta", None, None, True, 0)
print(m.VERSION)
