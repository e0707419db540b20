# _thread as MicroPython's unix port has it: threads with arguments, locks, idents, stack
# sizes, _thread.exit(), an exception ending one thread only, and a program that ends while a
# thread still sleeps (the thread is not waited for).
import _thread
import time

lock = _thread.allocate_lock()
print(repr(lock), type(lock) is _thread.LockType)
print(lock.locked(), lock.acquire(), lock.locked(), lock.acquire(0), lock.acquire(False))
lock.release()
print(lock.locked())
try:
    lock.release()
except RuntimeError as e:
    print("release unlocked:", repr(e))
with lock:
    print("in with", lock.locked())
print("after with", lock.locked())

# Arguments, keyword arguments, results through a shared list guarded by a lock.
results = []
finished = _thread.allocate_lock()
count = [0]


def work(name, n, scale=1):
    total = 0
    for i in range(n):
        total += i * scale
        time.sleep_ms(1)
    with lock:
        results.append((name, total))
        count[0] += 1


_thread.start_new_thread(work, ("a", 5))
_thread.start_new_thread(work, ("b", 4), {"scale": 10})
_thread.start_new_thread(work, ("c", 3, 100))
while count[0] < 3:
    time.sleep_ms(5)
print(sorted(results))

# The arguments come as a tuple or a list; anything else, or keywords not in a dict, is a
# TypeError in the caller. A function that cannot be called fails in the new thread.
listed = []
_thread.start_new_thread(lambda *a: listed.append(a), [7, 8])
for bad in ((work, 5), (work, ("x", 1), [("scale", 2)])):
    try:
        _thread.start_new_thread(*bad)
    except TypeError as e:
        print("TypeError:", e)
_thread.start_new_thread(5, ())
while not listed:
    time.sleep_ms(1)
print(listed)

# Idents: an int, the same within a thread, different between threads.
idents = []


def ident():
    idents.append(_thread.get_ident())
    idents.append(_thread.get_ident())


_thread.start_new_thread(ident, ())
while len(idents) < 2:
    time.sleep_ms(1)
main = _thread.get_ident()
print(type(main) is int, idents[0] == idents[1], idents[0] != main, main == _thread.get_ident())

# _thread.exit() ends the thread quietly; so does SystemExit.
steps = []


def leave(how):
    steps.append(how + " start")
    if how == "exit":
        _thread.exit()
    raise SystemExit
    steps.append("not reached")


_thread.start_new_thread(leave, ("exit",))
_thread.start_new_thread(leave, ("SystemExit",))
while len(steps) < 2:
    time.sleep_ms(1)
time.sleep_ms(10)
print(sorted(steps))

# An exception ends its thread (MicroPython prints it to stderr); the others go on.
def fail():
    raise ValueError("thread failed")


_thread.start_new_thread(fail, ())
time.sleep_ms(20)
print("main goes on")

# stack_size: 0 is the default; setting returns the previous setting.
print(_thread.stack_size(), _thread.stack_size(64 * 1024), _thread.stack_size(), _thread.stack_size())
_thread.stack_size(256 * 1024)
deep = []


def recurse(n):
    return 0 if n == 0 else 1 + recurse(n - 1)


_thread.start_new_thread(lambda: deep.append(recurse(50)), ())
_thread.stack_size(0)
while not deep:
    time.sleep_ms(1)
print("recursed", deep)

# A blocking acquire waits for the thread that holds the lock to release it.
gate = _thread.allocate_lock()
gate.acquire()
order = []


def opener():
    time.sleep_ms(30)
    order.append("open")
    gate.release()


_thread.start_new_thread(opener, ())
gate.acquire()
order.append("through")
print(order)


# The program ends while this thread sleeps: it is not waited for.
def late():
    time.sleep(1)
    print("never printed")


_thread.start_new_thread(late, ())
print("end")
