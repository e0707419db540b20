# gc.mem_alloc, gc.mem_free and gc.threshold: ints whose sum stays the heap's size, the
# allocation threshold rounded to MicroPython's 32-byte blocks, and the errors for bad input.
import gc


def attempt(label, f):
    try:
        print(label, f())
    except Exception as e:
        print(label, type(e).__name__, e)


print(type(gc.mem_alloc()).__name__, type(gc.mem_free()).__name__)
print(gc.mem_alloc() > 0, gc.mem_free() > 0)
total = gc.mem_alloc() + gc.mem_free()
before = gc.mem_alloc()
block = bytearray(200000)
print("grew", gc.mem_alloc() - before >= 200000)
print("same total", gc.mem_alloc() + gc.mem_free() == total)
del block

print(gc.threshold())
for n in (0, 1, 31, 32, 33, 1000, 4096, 2**40, True, -2, -1):
    print(n, gc.threshold(n), gc.threshold())
gc.threshold(50000)
junk = [[i] for i in range(20000)]
del junk
gc.collect()
gc.threshold(-1)
print(gc.threshold())

attempt("float", lambda: gc.threshold(1.5))
attempt("str", lambda: gc.threshold("1"))
attempt("two", lambda: gc.threshold(1, 2))
attempt("mem_free arg", lambda: gc.mem_free(1))
attempt("mem_alloc arg", lambda: gc.mem_alloc(1))
print("done")
