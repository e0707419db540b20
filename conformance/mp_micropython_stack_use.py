# micropython.stack_use (an int that grows with the call depth) and micropython.kbd_intr (takes
# an int), with the errors for bad arguments.
import micropython


def attempt(label, f):
    try:
        print(label, f())
    except Exception as e:
        print(label, type(e).__name__, e)


def deep(n):
    return micropython.stack_use() if n == 0 else deep(n - 1)


use = micropython.stack_use()
print(type(use).__name__, use > 0, deep(20) > use)
attempt("stack_use arg", lambda: micropython.stack_use(1))
print(micropython.kbd_intr(-1), micropython.kbd_intr(3))
attempt("kbd_intr str", lambda: micropython.kbd_intr("a"))
attempt("kbd_intr None", lambda: micropython.kbd_intr(None))
attempt("kbd_intr none", lambda: micropython.kbd_intr())
print("done")
