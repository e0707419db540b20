# Other micropython module functions: opt_level() get/set, heap_lock() /
# heap_unlock() pairing (unlock returns the remaining lock depth), and
# mem_info/schedule being callable. No allocation happens while locked.
import micropython


def lock_once():
    a = micropython.heap_lock()
    b = micropython.heap_unlock()
    return a, b


def lock_twice():
    micropython.heap_lock()
    micropython.heap_lock()
    a = micropython.heap_unlock()
    b = micropython.heap_unlock()
    return a, b


lvl = micropython.opt_level()
print("opt_level is int:", type(lvl).__name__ == "int")
print("set returns:", micropython.opt_level(1))
print("read back:", micropython.opt_level())
micropython.opt_level(lvl)
print("restored:", micropython.opt_level() == lvl)
print("lock once:", lock_once())
print("lock twice:", lock_twice())
print("mem_info callable:", callable(micropython.mem_info))
print("schedule callable:", callable(micropython.schedule))
print("done")
