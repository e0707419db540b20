# machine.Pin, pyb.LED and pyb.Switch on the simulated board: values, modes, reprs, and the
# exceptions MicroPython raises for wrong arguments.
from machine import Pin
import pyb


def attempt(label, f):
    try:
        print(label, f())
    except Exception as e:
        print(label, type(e).__name__, e)


p = Pin(1)
print(p, p.value(), p.mode(), p.pull())
p.on()
print(p, p.value(), p(), p.mode())
p.off(); print(p())
p.high(); print(p())
p.low(); print(p())
p.toggle(); print(p())
p(0); print(p.value())
p.value([1]); print(p.value())

q = Pin("X1", Pin.IN, Pin.PULL_UP)
print(q, q(), q.pull() == Pin.PULL_UP)
q.value(0)  # an input keeps the value for when it becomes an output
print(q())
q.init(Pin.OUT)
print(q, q())
q.init(Pin.IN, pull=None)
print(q, q(), q.pull())
q.mode(Pin.OPEN_DRAIN); q.value(1); print(q, q())
d = Pin(7, Pin.IN, Pin.PULL_DOWN); print(d(), d)
o = Pin(8, mode=Pin.OUT, value=1); print(o, o())
print(Pin(Pin(8)))

print(Pin.IN, Pin.OUT, Pin.OPEN_DRAIN, Pin.PULL_UP, Pin.PULL_DOWN, Pin.IRQ_FALLING, Pin.IRQ_RISING)
print(pyb.Pin is Pin, pyb.Pin.OUT_PP == Pin.OUT, pyb.Pin.OUT_OD == Pin.OPEN_DRAIN)

attempt("mode 9", lambda: Pin(1, 9))
attempt("pull 4", lambda: Pin(1, Pin.IN, 4))
attempt("float id", lambda: Pin(1.5))
attempt("negative id", lambda: Pin(-1))
attempt("no id", lambda: Pin())
attempt("four args", lambda: Pin(1, 0, 0, 0))
attempt("unknown kw", lambda: Pin(1, speed=3))
attempt("str mode", lambda: Pin(1, "out"))
attempt("value(1, 2)", lambda: p.value(1, 2))
attempt("str trigger", lambda: p.irq(print, "x"))

r = p.irq(lambda pin: None, Pin.IRQ_FALLING)
print(r.trigger(), p.irq() is r, r.flags())
print(p.irq(None).trigger())

for n in (1, 2, 3, 4):
    led = pyb.LED(n)
    print(led, led.intensity())
    led.on(); print(led.intensity())
    led.intensity(100); print(led.intensity())
    led.toggle(); print(led.intensity())
    led.toggle(); print(led.intensity())
    led.intensity(-5); print(led.intensity())
    led.intensity(999); print(led.intensity())
    led.off()
attempt("LED(0)", lambda: pyb.LED(0))
attempt("LED(5)", lambda: pyb.LED(5))
attempt("LED('1')", lambda: pyb.LED("1"))

sw = pyb.Switch()
print(sw, sw(), sw.value())
sw.callback(lambda: None)
sw.callback(None)
