# asyncio.Task made directly and subclassed, as MicroPython allows: the
# constructor's arguments and errors, a subclass with its own __init__ calling
# super().__init__(coro), attributes, isinstance, done() and cancel() of a task
# nobody scheduled; and asyncio.Loop subclassed.
import asyncio


async def job():
    print("job ran")
    return 1


class Tagged(asyncio.Task):
    def __init__(self, coro, tag, weight=1):
        super().__init__(coro)
        self.tag = tag
        self.weight = weight

    def describe(self):
        return "%s/%d" % (self.tag, self.weight)


class Bare(asyncio.Task):
    pass


async def main():
    co = job()
    t = Tagged(co, "t1", weight=3)
    print(type(t).__name__, t.describe(), t.coro is co, t.done())
    print(isinstance(t, asyncio.Task), issubclass(Tagged, asyncio.Task))
    t.extra = "x"
    print(t.extra, "tag" in t.__dict__)

    plain = asyncio.Task(job())
    print(type(plain).__name__, plain.done())
    await asyncio.sleep_ms(10)
    print("not scheduled", plain.done(), t.done())
    print("cancel", t.cancel(), t.done())
    await asyncio.sleep_ms(10)
    print("still not run", t.done())

    b = Bare(job())
    print(type(b).__name__, b.done(), b.coro is not None)

    # create_task still makes plain tasks, which run.
    real = asyncio.create_task(job())
    print(type(real).__name__, await real, real.done())
    print(isinstance(real, Tagged))

    for args, kw in (((), {}), ((1, 2, 3), {}), ((job(),), {"x": 1})):
        try:
            asyncio.Task(*args, **kw)
        except TypeError as er:
            print("TypeError", er)
    try:
        Tagged(job())
    except TypeError:
        print("TypeError")
    try:
        plain.other = 1
    except AttributeError:
        print("AttributeError")

    class MyLoop(asyncio.Loop):
        pass

    print(issubclass(MyLoop, asyncio.Loop), MyLoop.__name__, type(MyLoop()).__name__)
    print(type(asyncio.Loop(1)).__name__)
    for x in (co, plain.coro, b.coro):
        x.close()
    print("done")


asyncio.run(main())
