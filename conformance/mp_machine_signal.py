# machine.Signal over a pin written in Python (a machine.PinBase subclass): value(), on(),
# off(), calls, inversion, what the pin is given and the errors for bad input. machine.idle().
import machine


def attempt(label, f):
    try:
        print(label, f())
    except Exception as e:
        print(label, type(e).__name__, e)


class Wire(machine.PinBase):
    def __init__(self):
        self.level = 0

    def value(self, *args):
        print("  pin.value", args)
        if args:
            self.level = args[0]
        else:
            return self.level


w = Wire()
s = machine.Signal(w)
print(type(s).__name__, repr(s))
print(s.value())
s.value(1)
print(s())
s(0)
s.on()
s.off()
s(5)
s("")
print(s.on(), s.off(), s.value(1), s(0))

inv = machine.Signal(w, invert=True)
print(inv.value(), w.level)
inv.on()
print(w.level, inv())
inv.off()
print(w.level, inv())
w.level = 7
print(inv(), s())
print(machine.Signal(w, invert=1)(), machine.Signal(w, invert=[])())

w.level = None
attempt("None level", lambda: s())
w.level = "x"
attempt("str level", lambda: inv())
attempt("no args", lambda: machine.Signal())
attempt("two args", lambda: machine.Signal(w, 1))
attempt("unknown kw", lambda: machine.Signal(w, foo=1))
attempt("value 2 args", lambda: s.value(1, 2))
attempt("call 2 args", lambda: s(1, 2))
attempt("on arg", lambda: s.on(1))


class NoValue(machine.PinBase):
    pass


class Broken(machine.PinBase):
    def value(self, *args):
        raise ValueError("broken wire")


attempt("no value", lambda: machine.Signal(NoValue())())
attempt("raises", lambda: machine.Signal(Broken())())

print(machine.idle())
attempt("idle arg", lambda: machine.idle(1))
print("done")
