# Programs subclass asyncio.Queue: they override the _init/_put/_get hooks, or read and edit
# self._queue (a deque; a list for LifoQueue and PriorityQueue), or override put_nowait and
# get_nowait, which put() and get() call. And they clear a plain queue through _queue.
import asyncio
import heapq


class SongQueue(asyncio.Queue):
    def __getitem__(self, i):
        return self._queue[i]

    def __len__(self):
        return self.qsize()

    def __iter__(self):
        return iter(self._queue)

    def clear(self):
        self._queue.clear()

    def remove(self, i):
        del self._queue[i]


class KeyedQueue(asyncio.Queue):
    """A priority queue by key, through the hooks, with insertion order for ties."""

    def __init__(self, key, maxsize=0):
        self.key = key
        self.counter = 0
        super().__init__(maxsize)

    def _init(self, maxsize):
        print("_init", maxsize)
        self._queue = []

    def _put(self, item):
        self.counter += 1
        heapq.heappush(self._queue, (self.key(item), self.counter, item))

    def _get(self):
        return heapq.heappop(self._queue)[2]


class CountingQueue(asyncio.Queue):
    puts = 0
    gets = 0

    def put_nowait(self, item):
        CountingQueue.puts += 1
        super().put_nowait(item)

    def get_nowait(self):
        CountingQueue.gets += 1
        return super().get_nowait()


class NeverFull(asyncio.Queue):
    def full(self):
        return False


class Described(asyncio.LifoQueue):
    def _format(self):
        return "items=" + str(self.qsize())


async def main():
    q = SongQueue()
    for song in ["a", "b", "c", "d", "e"]:
        await q.put(song)
    print(len(q), q[0], q[-1], list(q))
    q.remove(1)
    q._queue.appendleft("first")
    print(list(q), q.qsize(), str(q))
    print(await q.get(), await q.get())
    q.clear()
    print(q.empty(), q.qsize(), str(q))
    getter = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    await q.put("woken")
    print(await getter)

    k = KeyedQueue(len, 2)
    print(type(k._queue).__name__)
    await k.put("ccc")
    await k.put("a")
    t = asyncio.create_task(k.put("bb"))
    await asyncio.sleep(0)
    print(str(k), k.full())
    print(await k.get())
    await t
    print(await k.get(), await k.get(), k.empty())

    c = CountingQueue(1)
    await c.put(1)
    t = asyncio.create_task(c.put(2))
    await asyncio.sleep(0)
    print(await c.get(), await c.get(), CountingQueue.puts, CountingQueue.gets)
    await t

    n = NeverFull(1)
    for i in range(3):
        await n.put(i)
    print(n.qsize(), str(n))

    d = Described()
    d.put_nowait(1)
    print(str(d), repr(d).startswith("<Described at 0x"), repr(d).endswith(" items=1>"))

    # A plain queue's _queue: peeking and clearing it change the queue.
    q = asyncio.Queue()
    for i in range(3):
        q.put_nowait(i)
    print(type(q._queue).__name__, q._queue[0], len(q._queue))
    q._queue.clear()
    print(q.empty(), q.qsize(), str(q))
    q.put_nowait("after")
    print(q.get_nowait(), q._unfinished_tasks)
    p = asyncio.PriorityQueue()
    for v in (3, 1, 2):
        p.put_nowait(v)
    print(p._queue, p._maxsize)
    p._queue.append(0)
    heapq.heapify(p._queue)
    print([p.get_nowait() for _ in range(4)])
    lq = asyncio.LifoQueue()
    lq.put_nowait("x")
    print(lq._queue)
    # _maxsize can be changed.
    q = asyncio.Queue(1)
    q.put_nowait(1)
    q._maxsize = 2
    q.put_nowait(2)
    print(q.full(), q.maxsize)
    print("done")


asyncio.run(main())
