# machine.Timer (soft timers, id -1) and pyb.Timer, which MicroPython's unix port lacks: reprs,
# one-shot and periodic timers whose callbacks run between task steps and wake a waiting task,
# deinit and init, and the errors for bad arguments. Exact expiry times are checked on virtual
# time in tests/timers.rs; here deadlines are far enough apart for real time.
import asyncio, time, pyb
from machine import Timer


def attempt(label, f):
    try:
        print(label, f())
    except Exception as e:
        print(label, type(e).__name__, e)


ev = asyncio.Event()
ticks = []


def tick(t):
    ticks.append(len(ticks) + 1)
    print("tick", len(ticks))
    if len(ticks) == 3:
        t.deinit()
        ev.set()


async def main():
    t = Timer(-1, period=60, callback=tick)
    Timer(mode=Timer.ONE_SHOT, period=90, callback=lambda t: print("one shot", t))
    await ev.wait()
    print("main woke", ticks)
    await asyncio.sleep_ms(150)
    print("stopped", ticks)
    t.init(mode=Timer.ONE_SHOT, period=30, callback=lambda t: print("again", t))
    await asyncio.sleep_ms(100)


asyncio.run(main())
print(Timer.ONE_SHOT, Timer.PERIODIC)
print(Timer(), Timer(period=0), Timer(freq=3000), Timer(freq=2.5), Timer(period=5, tick_hz=10), Timer(mode=Timer.ONE_SHOT))
attempt("id 0", lambda: Timer(0))
attempt("id str", lambda: Timer("a"))
attempt("period big", lambda: Timer(period=2**30))
attempt("positional", lambda: Timer(-1, 5))
attempt("unknown kw", lambda: Timer(foo=1))
attempt("period float", lambda: Timer(period=1.5))

hits = []
s = Timer(period=20, callback=lambda t: hits.append(1))
time.sleep_ms(110)
s.deinit()
print("during sleep", len(hits) >= 4)

p = pyb.Timer(4, freq=10)
print(p, p.freq(), p.prescaler(), p.period(), p.source_freq(), pyb.Timer(4) is p)
p.callback(lambda t: print("pyb tick"))
time.sleep_ms(150)
p.deinit()
print(p, pyb.Timer(1, prescaler=167, period=9999), pyb.Timer(2, freq=0.5).period())
attempt("pyb 0", lambda: pyb.Timer(0))
attempt("pyb 15", lambda: pyb.Timer(15))
attempt("pyb no freq", lambda: pyb.Timer(3).init(mode=0))
attempt("pyb freq 0", lambda: pyb.Timer(3, freq=0))
attempt("pyb callback", lambda: pyb.Timer(3).callback(5))
attempt("pyb mode", lambda: pyb.Timer(3, freq=1, mode=7))
print("done")
