# CPython's threading module over microloop's threads: Thread with target and arguments,
# join, Lock, Event and Condition with timeouts, current_thread, a daemon thread that is not
# waited for, a non-daemon thread the program waits for at its end, and a thread handing
# results to the asyncio loop with call_soon_threadsafe.
import asyncio
import threading
import time

results = []
lock = threading.Lock()


def work(name, n):
    total = 0
    for i in range(n):
        total += i
        time.sleep(0.001)
    with lock:
        results.append((name, total, threading.current_thread().name))


threads = [threading.Thread(target=work, args=(f"w{i}", 10 * i), name=f"worker-{i}") for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sorted(results))
print([t.is_alive() for t in threads], threading.current_thread().name, threading.main_thread().name)

# Event.wait with a timeout that runs out, then one that is set by a thread.
ev = threading.Event()
print("timed out wait:", ev.wait(0.01))
threading.Thread(target=lambda: (time.sleep(0.01), ev.set())).start()
print("set wait:", ev.wait(5))

# A Condition: a consumer waits for items a producer adds.
cond = threading.Condition()
items = []


def consumer(out):
    with cond:
        while len(items) < 3:
            cond.wait()
        out.append(list(items))


got = []
c = threading.Thread(target=consumer, args=(got,))
c.start()
for i in range(3):
    time.sleep(0.002)
    with cond:
        items.append(i)
        cond.notify()
c.join(5)
print("consumer got", got, c.is_alive())

# join with a timeout on a thread that outlives it.
slow = threading.Thread(target=time.sleep, args=(0.2,))
slow.start()
slow.join(0.01)
print("slow alive after join(0.01):", slow.is_alive())
slow.join()
print("slow alive after join():", slow.is_alive())


# A thread hands results to the loop.
async def main():
    loop = asyncio.get_running_loop()
    fut = loop.create_future()

    def compute():
        time.sleep(0.01)
        loop.call_soon_threadsafe(fut.set_result, sum(range(100)))

    threading.Thread(target=compute).start()
    print("from thread:", await fut)


asyncio.run(main())

# A daemon thread is not waited for; a non-daemon one is.
threading.Thread(target=lambda: (time.sleep(5), print("daemon: never printed")), daemon=True).start()
threading.Thread(target=lambda: (time.sleep(0.05), print("non-daemon: printed at the end"))).start()
print("main ends")
