# asyncio.Future outside the await machinery: states, results, exceptions, cancellation,
# InvalidStateError messages, callbacks removed, reprs of the simple cases.
import asyncio


def attempt(label, f, *args):
    try:
        r = f(*args)
        print(label, "->", repr(r))
    except BaseException as e:
        print(label, "raises", type(e).__name__, e.args)


async def main():
    loop = asyncio.get_running_loop()
    print(issubclass(asyncio.InvalidStateError, Exception))
    print(issubclass(asyncio.CancelledError, Exception))

    f = loop.create_future()
    print(type(f) is asyncio.Future, f.get_loop() is loop, asyncio.isfuture(f))
    print(repr(f), f.done(), f.cancelled())
    attempt("result pending", f.result)
    attempt("exception pending", f.exception)
    f.set_result(42)
    print(repr(f), f.done(), f.cancelled())
    attempt("result", f.result)
    attempt("exception", f.exception)
    attempt("set_result again", f.set_result, 1)
    attempt("set_exception after result", f.set_exception, ValueError("x"))
    attempt("cancel done", f.cancel)
    print(f.result())

    g = asyncio.Future()
    attempt("set_exception StopIteration class", g.set_exception, StopIteration)
    attempt("set_exception StopIteration", g.set_exception, StopIteration(1))
    attempt("set_exception int", g.set_exception, 5)
    attempt("set_exception int class", g.set_exception, int)
    print(g.done())
    g.set_exception(KeyError)
    print(repr(g))
    attempt("exception set", g.exception)
    attempt("result set", g.result)
    print(type(g.exception()).__name__, g.exception().args)

    h = asyncio.Future()
    print(h.cancel(), h.cancel(), h.cancelled(), h.done(), repr(h))
    attempt("result cancelled", h.result)
    attempt("exception cancelled", h.exception)
    attempt("set_result cancelled", h.set_result, 1)

    m = asyncio.Future()
    print(m.cancel("stop now"))
    attempt("result cancelled with msg", m.result)
    attempt("exception cancelled with msg", m.exception)
    m2 = asyncio.Future()
    print(m2.cancel(msg="by keyword"))
    attempt("result keyword msg", m2.result)

    v = asyncio.Future()
    v.set_exception(ValueError("bad"))
    print(repr(v))

    w = asyncio.Future()
    w.set_result("short")
    print(repr(w))

    def cb(fut):
        print("cb", fut.result())

    def other(fut):
        print("other", fut.result())

    k = asyncio.Future()
    k.add_done_callback(cb)
    k.add_done_callback(other)
    k.add_done_callback(cb)
    print(k.remove_done_callback(cb), k.remove_done_callback(cb), k.remove_done_callback(print))
    k.set_result("k")
    print("set_result returned")
    await asyncio.sleep(0)
    print("after one step")

    def quiet(fut):
        pass

    r = asyncio.Future()
    r.add_done_callback(quiet)
    print(repr(r).split(" at ")[0])
    r.add_done_callback(print)
    print(repr(r).split(" at ")[0], repr(r).endswith(", print()]>"))
    r.set_exception(ValueError(1, "two"))
    print(repr(r))
    await asyncio.sleep(0)

    print(asyncio.isfuture(1), asyncio.isfuture(asyncio.Future), asyncio.isfuture(None))

    class Blocking:
        _asyncio_future_blocking = False

    class NotBlocking:
        _asyncio_future_blocking = None

    print(asyncio.isfuture(Blocking()), asyncio.isfuture(NotBlocking()))
    t = asyncio.create_task(asyncio.sleep(0))
    print(asyncio.isfuture(t))
    await t

    class Tagged(asyncio.Future):
        def __init__(self, tag):
            super().__init__()
            self.tag = tag

        def set_result(self, value):
            print("Tagged.set_result", self.tag, value)
            super().set_result((self.tag, value))

    t = Tagged("T")
    print(repr(t), isinstance(t, asyncio.Future), asyncio.isfuture(t))
    loop.call_soon(t.set_result, 5)
    print(await t, repr(t))

    attempt("add_done_callback()", lambda: k.add_done_callback())
    attempt("add_done_callback(print, foo=1)", lambda: k.add_done_callback(print, foo=1))
    attempt("cancel(1, 2)", lambda: k.cancel(1, 2))
    attempt("cancel(foo=1)", lambda: k.cancel(foo=1))
    print(asyncio.Future[int])
    attempt("Future(1)", asyncio.Future, 1)
    attempt("Future(foo=1)", lambda: asyncio.Future(foo=1))
    print(repr(asyncio.Future(loop=loop)))
    print("done")


asyncio.run(main())
