# The task monitor: tasks parked on every kind of wait, then `micropython.task_info()` prints
# each one, what it waits on and where. Run it with `-X taskdump` to see the tasks still
# pending when the run ends, and `--virtual-time` for deadlines that read the same every run:
#   microloop --virtual-time -X taskdump examples/task_dump.py
import asyncio
import micropython
import socket


async def nap(ms):
    await asyncio.sleep_ms(ms)


async def sleeper():
    await nap(1500)


async def waiter(event):
    await event.wait()


async def locker(lock):
    async with lock:
        pass


async def flagged(flag):
    await flag.wait()


async def reader(stream):
    return await stream.read(100)


async def writer(stream):
    stream.write(b"x" * 1_000_000)  # more than the socket's buffers take: nobody reads
    await stream.drain()


async def follower(task):
    await task


async def group():
    await asyncio.gather(nap(2000), waiter(asyncio.Event()))


async def guarded(event):
    await asyncio.wait_for(waiter(event), 5)


async def main():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(2)
    stream, _ = await asyncio.open_connection(*listener.getsockname())
    sink = socket.socket()
    sink.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    sink.connect(listener.getsockname())
    event, lock, flag = asyncio.Event(), asyncio.Lock(), asyncio.ThreadSafeFlag()
    await lock.acquire()
    sleeping = asyncio.create_task(sleeper())
    asyncio.create_task(waiter(event))
    asyncio.create_task(locker(lock))
    asyncio.create_task(flagged(flag))
    asyncio.create_task(reader(stream))
    asyncio.create_task(writer(asyncio.StreamWriter(sink)))
    asyncio.create_task(follower(sleeping))
    asyncio.create_task(group())
    asyncio.create_task(guarded(event))
    await asyncio.sleep_ms(100)
    micropython.task_info()


asyncio.run(main())
