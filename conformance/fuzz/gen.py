#!/usr/bin/env python3
"""Random MicroPython asyncio programs for the differential fuzzer.

    gen.py SEED [--slot MS] [-o FILE]      print (or write) the program for SEED
    gen.py --stats A:B                     how many programs of seeds A..B-1 use each feature

A program is a function of its seed alone (`random.Random(seed)`), uses only MicroPython's
documented asyncio API, and prints a trace whose every line is deterministic under
MicroPython: exceptions appear as their type name and args, never as reprs.

Timing. Every timed wake-up (a `sleep`/`sleep_ms` deadline or a `wait_for` timeout) is given
its own slot: a multiple of SLOT milliseconds after main started, one slot per timed
operation in the whole program, so no two timers of a program fall within SLOT ms of each
other (SLOT is doubled in programs with a ThreadSafeFlag: see `plan`). A sleep whose slot has already passed when it runs sleeps 0 ms. Slots are handed out
in an order that respects each coroutine's program order (and starts a child coroutine's
deadlines after those its parent set before creating it), so most sleeps do wait.

Liveness. A `releaser` task sets every Event and ThreadSafeFlag at slot REL and again every
other slot after it (a few times), so that a task waiting on something nobody sets still
ends; tasks await only tasks of a lower number; locks are held only around statements that
end by themselves. Main sleeps until slot REL+1 before it returns.
"""

import argparse
import random
import sys

EXCEPTIONS = ("ValueError", "KeyError", "IndexError")

PRELUDE = '''\
import asyncio
import micropython
from time import ticks_ms, ticks_add, ticks_diff

SLOT = {slot}
T0 = ticks_ms()
M = None
T = [None] * {ntasks}
E = [asyncio.Event() for _ in range({nevents})]
L = [asyncio.Lock() for _ in range({nlocks})]
F = [asyncio.ThreadSafeFlag() for _ in range({nflags})]


def left(s):
    # milliseconds from now until slot s (0 if it has passed)
    return max(0, ticks_diff(ticks_add(T0, s * SLOT), ticks_ms()))


def show(v):
    if isinstance(v, BaseException):
        return type(v).__name__ + str(v.args)
    if isinstance(v, list):
        return "[" + ", ".join([show(x) for x in v]) + "]"
    return str(v)


def cancel(i):
    t = T[i]
    return None if t is None else t.cancel()


def done(i):
    t = T[i]
    return None if t is None else t.done()


async def missing(i):
    print("missing w%d" % i)
    return "none"


def tk(i):
    # the task w<i>, or a stand-in coroutine if it has not been created
    return missing(i) if T[i] is None else T[i]


def setf(i):
    # a micropython.schedule callback
    F[i].set()


def handler(loop, ctx):
    print("handler", ctx["message"], show(ctx["exception"]))
{raising}

async def releaser():
    k = {rel}
    while k < {rel_end}:
        await asyncio.sleep_ms(left(k))
        print("rel", k)
        for e in E:
            e.set()
        for f in F:
            f.set()
        k += 2
'''

RAISING_HANDLER = '''

def bad_handler(loop, ctx):
    print("bad handler", show(ctx["exception"]))
    raise ValueError("handler")
'''

POSTLUDE = '''
try:
{runner}
except BaseException as e:
    print("top", show(e))
print("done")
'''

RUN = '''    print("run", show(asyncio.run(main())))'''

RUN_UNTIL_COMPLETE = '''    print("run", show(asyncio.get_event_loop().run_until_complete(main())))'''

RUN_FOREVER = '''    async def forever():
        try:
            print("main ->", show(await main()))
        except BaseException as e:
            print("main !", show(e))
        asyncio.get_event_loop().stop()

    loop = asyncio.get_event_loop()
    loop.create_task(forever())
    print("run", show(loop.run_forever()))'''

# a second asyncio.run: MicroPython's run queue is global, so the tasks left over by the
# first run go on running in it
RUN_TWICE = '''    print("run", show(asyncio.run(main())))

    async def again():
        print("again start")
        await asyncio.sleep_ms(left(@FIN2@))
        print("again end")

    print("run again", show(asyncio.run(again())))'''


class Op:
    """A timed wake-up whose slot is chosen after the whole program is generated."""

    def __init__(self, ident, pred):
        self.ident = ident
        self.pred = pred
        self.slot = None

    def ref(self):
        return "@S%d@" % self.ident


class Coro:
    """One `async def` of the program being generated."""

    def __init__(self, name, role, index=0, level=0):
        self.name = name  # "m", "w3", "c2": the prefix of its trace lines
        self.role = role  # "main", "task" or "coro"
        self.index = index  # task number for tasks
        self.level = level  # how deeply bare coroutines nest
        self.lines = []
        self.count = 0
        self.last_op = None
        self.creates = []  # task numbers this coroutine creates
        self.consumes = []  # ("await" | "wait_for" | "gather", [task numbers])
        self.flags = []  # flag numbers this coroutine may wait on (one waiter per flag)
        self.rank = index  # it may await only tasks numbered below this (no cycles)

    def label(self):
        self.count += 1
        return "%s.%d" % (self.name, self.count)


class Gen:
    def __init__(self, seed, slot_ms=20, max_ops=9):
        self.rng = random.Random(seed)
        self.seed = seed
        self.slot_ms = slot_ms
        self.max_ops = max_ops
        self.ops = []
        self.coros = []  # every async def, in the order they are written out
        self.ncoros = 0
        self.features = set()

    # -- helpers -------------------------------------------------------------------------

    def chance(self, p):
        return self.rng.random() < p

    def pick(self, weighted):
        """weighted: list of (weight, value); entries of weight 0 are skipped."""
        total = sum(w for w, _ in weighted)
        x = self.rng.random() * total
        for w, v in weighted:
            x -= w
            if x < 0:
                return v
        return weighted[-1][1]

    def new_op(self, c):
        if len(self.ops) >= self.max_ops:
            return None
        op = Op(len(self.ops), c.last_op)
        self.ops.append(op)
        c.last_op = op
        return op

    def emit(self, c, depth, text):
        for line in text.split("\n"):
            c.lines.append("    " * depth + line)

    def feature(self, name):
        self.features.add(name)

    # -- plan -------------------------------------------------------------------------------

    def plan(self):
        r = self.rng
        self.ntasks = r.randint(2, 6)
        self.nevents = self.pick([(1, 0), (4, 1), (3, 2)])
        self.nlocks = self.pick([(3, 0), (4, 1), (1, 2)])
        self.nflags = self.pick([(2, 0), (5, 1), (1, 2)])
        self.main = Coro("m", "main")
        self.main.rank = self.ntasks + 1
        self.tasks = [None] + [Coro("w%d" % i, "task", i) for i in range(1, self.ntasks + 1)]
        owners = [self.main] + self.tasks[1:]
        for f in range(self.nflags):
            r.choice(owners).flags.append(f)
        if self.nflags:
            # While a task waits on a ThreadSafeFlag, each pass of MicroPython's loop takes
            # at least 1 ms (its poll() waits 1 ms whenever an object without a file
            # descriptor is registered, even with timeout 0), so a burst of steps can last
            # tens of ms: these programs get slots twice as long, and fewer of them.
            self.slot_ms *= 2
            self.max_ops = min(self.max_ops, 6)
        pending_gather = {}
        self.consumed = {}  # task number -> how its planned consumer waits on it
        for j in range(1, self.ntasks + 1):
            if j > 1 and self.chance(0.2):
                creator = self.tasks[r.randint(1, j - 1)]
            else:
                creator = self.main
            creator.creates.append(j)
            higher = self.tasks[j + 1:]
            consumer = self.pick([(45, self.main), (30 if higher else 0, "task"), (25, None)])
            if consumer == "task":
                consumer = r.choice(higher)
            if consumer is None:
                self.feature("detached task")
                continue
            kind = self.pick([(40, "await"), (30, "gather"), (30, "wait_for")])
            self.consumed[j] = kind
            if kind == "gather":
                group = pending_gather.get(consumer.name)
                if group is not None and self.chance(0.6):
                    group.append(j)
                    continue
                group = [j]
                pending_gather[consumer.name] = group
                consumer.consumes.append(("gather", group))
            else:
                consumer.consumes.append((kind, [j]))

    # -- bodies ---------------------------------------------------------------------------

    def body(self, c, depth, items, nfill, ctx):
        """Writes `items` (callables that write one required statement) in order, with
        `nfill` random statements spread among them."""
        slots = sorted(self.rng.randint(0, nfill) for _ in items)
        i = 0
        for k in range(nfill + 1):
            while i < len(items) and slots[i] == k:
                items[i](c, depth)
                i += 1
            if k < nfill:
                self.filler(c, depth, ctx)

    def filler(self, c, depth, ctx):
        in_lock = ctx.get("in_lock", False)
        has_tasks = self.ntasks > 0
        free = not in_lock
        kind = self.pick([
            (14, "sleep0"),
            (8 if len(self.ops) < self.max_ops else 0, "sleep_to"),
            (6 if self.nevents else 0, "ev_wait"),
            (6 if self.nevents else 0, "ev_set"),
            (2 if self.nevents else 0, "ev_clear"),
            (2 if self.nevents else 0, "ev_is_set"),
            (6 if self.nlocks and free and depth < 3 else 0, "lock_with"),
            (3 if self.nlocks and free and depth < 3 else 0, "lock_manual"),
            (1 if self.nlocks else 0, "locked"),
            (1 if self.nlocks and free else 0, "bad_release"),
            (10 if c.flags else 0, "flag_wait"),
            (5 if self.nflags else 0, "flag_set"),
            (4 if self.nflags else 0, "flag_sched"),
            (1 if self.nflags else 0, "flag_clear"),
            (10 if has_tasks else 0, "cancel"),
            (1 if c.role != "main" else 0, "cancel_main"),
            (2 if has_tasks else 0, "done"),
            (7 if depth < 3 else 0, "try"),
            (4 if free and c.level < 2 else 0, "gather_coros"),
            (4 if free and c.level < 2 and len(self.ops) < self.max_ops else 0, "wait_for_coro"),
            (2 if free and c.level < 2 else 0, "await_coro"),
            (2 if free and c.rank > 1 else 0, "await_task"),
            (2 if free and c.level < 2 else 0, "detach_coro"),
            (6 if free and c.level < 2 else 0, "spawn_cancel"),
        ])
        getattr(self, "s_" + kind)(c, depth, ctx)

    def s_sleep0(self, c, depth, ctx):
        call = "asyncio.sleep_ms(0)" if self.chance(0.1) else "asyncio.sleep(0)"
        self.emit(c, depth, "print(%r)\nawait %s" % (c.label() + " sleep0", call))

    def s_sleep_to(self, c, depth, ctx):
        op = self.new_op(c)
        lab = c.label()
        if op is None:
            return self.s_sleep0(c, depth, ctx)
        self.feature("timed sleep")
        if self.chance(0.5):
            call = "asyncio.sleep_ms(left(%s))" % op.ref()
        else:
            call = "asyncio.sleep(left(%s) / 1000)" % op.ref()
        self.emit(c, depth, "print('%s sleep s%s')\nawait %s" % (lab, op.ref(), call))

    def s_ev_wait(self, c, depth, ctx):
        e = self.rng.randrange(self.nevents)
        lab = c.label()
        self.feature("event wait")
        if not ctx.get("in_lock") and c.level < 2 and self.chance(0.25) and len(self.ops) < self.max_ops:
            return self.wait_for_call(c, depth, lab, "E[%d].wait()" % e, "e%d" % e)
        self.emit(c, depth, "print('%s wait e%d')\nprint('%s e%d', await E[%d].wait())"
                  % (lab, e, lab, e, e))

    def s_ev_set(self, c, depth, ctx):
        e = self.rng.randrange(self.nevents)
        self.emit(c, depth, "print('%s set e%d')\nE[%d].set()" % (c.label(), e, e))

    def s_ev_clear(self, c, depth, ctx):
        e = self.rng.randrange(self.nevents)
        self.emit(c, depth, "print('%s clear e%d')\nE[%d].clear()" % (c.label(), e, e))

    def s_ev_is_set(self, c, depth, ctx):
        e = self.rng.randrange(self.nevents)
        self.emit(c, depth, "print('%s e%d is_set', E[%d].is_set())" % (c.label(), e, e))

    def lock_body(self, c, depth, ctx):
        inner = dict(ctx, in_lock=True)
        for _ in range(self.rng.randint(0, 2)):
            self.filler(c, depth, inner)

    def s_lock_with(self, c, depth, ctx):
        n = self.rng.randrange(self.nlocks)
        lab = c.label()
        self.feature("lock")
        self.emit(c, depth, "print('%s with l%d')\nasync with L[%d]:" % (lab, n, n))
        self.emit(c, depth + 1, "print('%s in l%d', L[%d].locked())" % (lab, n, n))
        self.lock_body(c, depth + 1, ctx)
        self.emit(c, depth, "print('%s out l%d')" % (lab, n))

    def s_lock_manual(self, c, depth, ctx):
        n = self.rng.randrange(self.nlocks)
        lab = c.label()
        self.feature("lock")
        self.emit(c, depth, "print('%s acquire l%d')\nprint('%s got l%d', await L[%d].acquire())\ntry:"
                  % (lab, n, lab, n, n))
        self.emit(c, depth + 1, "print('%s holds l%d', L[%d].locked())" % (lab, n, n))
        self.lock_body(c, depth + 1, ctx)
        self.emit(c, depth, "finally:")
        self.emit(c, depth + 1, "L[%d].release()\nprint('%s released l%d')" % (n, lab, n))

    def s_locked(self, c, depth, ctx):
        n = self.rng.randrange(self.nlocks)
        self.emit(c, depth, "print('%s l%d locked', L[%d].locked())" % (c.label(), n, n))

    def s_bad_release(self, c, depth, ctx):
        n = self.rng.randrange(self.nlocks)
        lab = c.label()
        self.emit(c, depth, "try:")
        self.emit(c, depth + 1, "L[%d].release()\nprint('%s released l%d')" % (n, lab, n))
        self.emit(c, depth, "except RuntimeError as e:")
        self.emit(c, depth + 1, "print('%s release l%d: RuntimeError')" % (lab, n))

    def s_flag_wait(self, c, depth, ctx):
        f = self.rng.choice(c.flags)
        lab = c.label()
        self.feature("flag wait")
        if not ctx.get("in_lock") and self.chance(0.25) and len(self.ops) < self.max_ops:
            return self.wait_for_call(c, depth, lab, "F[%d].wait()" % f, "f%d" % f)
        self.emit(c, depth, "print('%s wait f%d')\nprint('%s f%d', await F[%d].wait())"
                  % (lab, f, lab, f, f))

    def s_flag_set(self, c, depth, ctx):
        f = self.rng.randrange(self.nflags)
        self.feature("flag set")
        self.emit(c, depth, "print('%s set f%d')\nF[%d].set()" % (c.label(), f, f))

    def s_flag_sched(self, c, depth, ctx):
        f = self.rng.randrange(self.nflags)
        self.feature("flag set from schedule")
        # MicroPython runs the callback at its VM's next pending-work check (a jump, say),
        # somewhere inside the running task's step: yield at once so that the point where it
        # runs cannot show (both then run it before any other task's step).
        self.emit(c, depth, "print('%s schedule f%d')\nmicropython.schedule(setf, %d)\nawait asyncio.sleep(0)"
                  % (c.label(), f, f))

    def s_flag_clear(self, c, depth, ctx):
        f = self.rng.randrange(self.nflags)
        self.emit(c, depth, "print('%s clear f%d')\nF[%d].clear()" % (c.label(), f, f))

    def cancel_target(self, c):
        """A task number: often one that `c` awaits or that awaits `c`, rarely `c` itself."""
        near = [j for _, js in c.consumes for j in js]
        if c.role == "task":
            near += [t.index for t in self.tasks[1:] if any(c.index in js for _, js in t.consumes)]
        if near and self.chance(0.4):
            return self.rng.choice(near)
        others = [i for i in range(1, self.ntasks + 1) if i != c.index]
        if c.role == "task" and self.chance(0.02):
            self.feature("cancel self")
            return c.index
        return self.rng.choice(others)

    def s_cancel(self, c, depth, ctx):
        j = self.cancel_target(c)
        self.feature("cancel")
        self.emit(c, depth, "print('%s cancel w%d', cancel(%d))" % (c.label(), j, j))

    def s_cancel_main(self, c, depth, ctx):
        if not self.chance(0.3):
            return self.s_cancel(c, depth, ctx)
        self.feature("cancel main")
        self.emit(c, depth, "print('%s cancel m', M.cancel())" % c.label())

    def s_done(self, c, depth, ctx):
        j = self.rng.randint(1, self.ntasks)
        self.emit(c, depth, "print('%s w%d done', done(%d))" % (c.label(), j, j))

    def s_try(self, c, depth, ctx):
        lab = c.label()
        self.emit(c, depth, "try:")
        for _ in range(self.rng.randint(1, 3)):
            self.filler(c, depth + 1, ctx)
        if self.chance(0.3):
            self.s_raise(c, depth + 1, ctx)
        self.handlers(c, depth, lab)

    def handlers(self, c, depth, lab, cancel=0.6, other=0.6, final=0.4):
        """except/finally clauses printing what they catch; at least one clause. Main
        catches and rarely re-raises, so that its trace goes on."""
        reraise = 0.1 if c.role == "main" else 0.5
        if c.role == "main":
            cancel, other = max(cancel, 0.9), max(other, 0.9)
        wrote = False
        if self.chance(cancel):
            wrote = True
            self.emit(c, depth, "except asyncio.CancelledError as e:")
            self.emit(c, depth + 1, "print('%s cancelled', show(e))" % lab)
            if self.chance(reraise):
                self.emit(c, depth + 1, "raise")
            else:
                self.feature("CancelledError swallowed")
        if self.chance(other):
            wrote = True
            self.emit(c, depth, "except Exception as e:")
            self.emit(c, depth + 1, "print('%s caught', show(e))" % lab)
            if self.chance(reraise * 0.6):
                self.feature("exception re-raised")
                self.emit(c, depth + 1, "raise")
            else:
                self.feature("exception caught")
        if self.chance(final) or not wrote:
            self.emit(c, depth, "finally:")
            self.emit(c, depth + 1, "print('%s finally')" % lab)

    def s_raise(self, c, depth, ctx):
        lab = c.label()
        exc = self.rng.choice(EXCEPTIONS)
        self.feature("raise")
        self.emit(c, depth, "print('%s raise')\nraise %s('%s')" % (lab, exc, lab))

    # bare coroutines (gather / wait_for / await of a coroutine, or a detached task)

    def new_coro(self, parent, first=None):
        """Writes a new `async def cN()` and returns the call `cN()`; `first`, if given, is
        the kind of its first statement."""
        self.ncoros += 1
        cc = Coro("c%d" % self.ncoros, "coro", 0, parent.level + 1)
        cc.rank = parent.rank
        cc.last_op = parent.last_op
        cc.lines.append("async def %s():" % cc.name)
        self.emit(cc, 1, "print('%s start')" % cc.name)
        if first:
            getattr(self, "s_" + first)(cc, 1, {})
        self.body(cc, 1, [], self.rng.randint(1 if first else 0, 3), {})
        if self.chance(0.25):
            self.s_raise(cc, 1, {})
        else:
            self.emit(cc, 1, "print('%s end')\nreturn '%s'" % (cc.name, cc.name))
        self.coros.append(cc)
        return cc.name + "()"

    def gather_call(self, c, args):
        if self.chance(0.15):
            # a gather inside the gather
            args = args + ["asyncio.gather(%s)" % ", ".join(
                [self.new_coro(c) for _ in range(self.rng.randint(1, 2))])]
            self.feature("nested gather")
        self.rng.shuffle(args)
        if self.chance(0.5):
            args = args + ["return_exceptions=True"]
            self.feature("gather return_exceptions")
        else:
            self.feature("gather")
        return "asyncio.gather(%s)" % ", ".join(args)

    def consume_gather(self, c, depth, lab, args):
        call = self.gather_call(c, args)
        if self.chance(0.3):
            # create the gather, let the loop run, then await it
            self.feature("gather awaited later")
            self.emit(c, depth, "print('%s gather created')\ng = %s" % (lab, call))
            for _ in range(self.rng.randint(1, 2)):
                self.s_sleep0(c, depth, {})
            call = "g"
        self.guarded(c, depth, lab, "gather", call)

    def guarded(self, c, depth, lab, what, aw, cancel=0.6):
        """`await aw`, printing its result, inside a try most of the time."""
        self.emit(c, depth, "print('%s %s')" % (lab, what))
        line = "print('%s %s ->', show(await %s))" % (lab, what, aw)
        if self.chance(0.95 if c.role == "main" else 0.7):
            self.emit(c, depth, "try:")
            self.emit(c, depth + 1, line)
            self.handlers(c, depth, lab, cancel=cancel, other=0.9, final=0.2)
        else:
            self.emit(c, depth, line)

    def wait_for_call(self, c, depth, lab, aw, what):
        form = self.pick([(45, "wait_for"), (45, "wait_for_ms"), (10, "none")])
        if form == "none":
            self.feature("wait_for None")
            call = "asyncio.wait_for(%s, None)" % aw
        else:
            op = self.new_op(c)
            if op is None:
                call = "asyncio.wait_for(%s, None)" % aw
            elif form == "wait_for":
                self.feature("wait_for")
                call = "asyncio.wait_for(%s, left(%s) / 1000)" % (aw, op.ref())
            else:
                self.feature("wait_for_ms")
                call = "asyncio.wait_for_ms(%s, left(%s))" % (aw, op.ref())
        # a wait_for cancelled from outside, its CancelledError swallowed, and more awaits
        # after it: MicroPython's runner task outlives the wait_for and can still act
        self.guarded(c, depth, lab, "wait_for " + what, call, cancel=0.8)

    def s_gather_coros(self, c, depth, ctx):
        lab = c.label()
        args = [self.new_coro(c) for _ in range(self.pick([(1, 0), (8, 1), (8, 2), (6, 3)]))]
        self.consume_gather(c, depth, lab, args)

    def s_wait_for_coro(self, c, depth, ctx):
        lab = c.label()
        inner = self.new_coro(c)
        if self.chance(0.15):
            inner = self.gather_call(c, [inner, self.new_coro(c)])
            self.feature("wait_for gather")
        self.wait_for_call(c, depth, lab, inner, inner.split("(")[0].replace("asyncio.", ""))

    def s_await_coro(self, c, depth, ctx):
        lab = c.label()
        self.guarded(c, depth, lab, "await", self.new_coro(c))

    def s_detach_coro(self, c, depth, ctx):
        lab = c.label()
        self.feature("detached task")
        self.emit(c, depth, "print('%s spawn')\nasyncio.create_task(%s)" % (lab, self.new_coro(c)))

    def s_spawn_cancel(self, c, depth, ctx):
        """A task cancelled after 0 to 4 sleep(0)s, whatever it is waiting on by then."""
        lab = c.label()
        first = self.pick([
            (3, None), (2, "sleep_to" if len(self.ops) < self.max_ops else None),
            (2 if self.nevents else 0, "ev_wait"), (2 if self.nlocks else 0, "lock_with"),
            (2, "gather_coros"), (2 if len(self.ops) < self.max_ops else 0, "wait_for_coro"),
            (1, "await_coro"), (1 if self.ntasks else 0, "await_task")])
        call = self.new_coro(c, first)
        name = call[:-2]
        steps = self.rng.randint(0, 4)
        self.feature("cancel after %d sleep0" % steps)
        self.emit(c, depth, "print('%s spawn %s')\nx = asyncio.create_task(%s)" % (lab, name, call))
        for _ in range(steps):
            self.emit(c, depth, "await asyncio.sleep(0)")
        self.emit(c, depth, "print('%s cancel %s', x.cancel())" % (lab, name))
        if self.chance(0.15):
            self.feature("cancel twice")
            self.emit(c, depth, "print('%s cancel %s again', x.cancel())" % (lab, name))

    def s_await_task(self, c, depth, ctx):
        """Awaits a task numbered below this coroutine's rank: one nobody else waits on, or
        (a second waiter) one that another coroutine awaits directly or through wait_for,
        never one in a gather (MicroPython allows one gather and no other waiter)."""
        free = [j for j in range(1, c.rank)
                if j not in self.consumed or (self.consumed[j] != "gather" and self.chance(0.5))]
        if not free:
            return self.s_sleep0(c, depth, ctx)
        j = self.rng.choice(free)
        if j in self.consumed:
            self.feature("two waiters on a task")
        else:
            self.consumed[j] = "await"
        self.feature("await task")
        self.guarded(c, depth, c.label(), "await w%d" % j, "tk(%d)" % j)

    # required statements: creating and consuming the planned tasks

    def create_item(self, j):
        def write(c, depth):
            lab = c.label()
            t = self.tasks[j]
            t.last_op = c.last_op
            self.emit(c, depth, "print('%s create w%d')\nT[%d] = asyncio.create_task(w%d())"
                      % (lab, j, j, j))
            self.task_body(t)
            if self.chance(0.12):
                self.feature("cancel before first step")
                self.emit(c, depth, "print('%s cancel w%d', cancel(%d))" % (lab, j, j))
        return write

    def consume_item(self, kind, js):
        def write(c, depth):
            lab = c.label()
            if kind == "await":
                self.feature("await task")
                self.guarded(c, depth, lab, "await w%d" % js[0], "tk(%d)" % js[0])
            elif kind == "wait_for":
                self.wait_for_call(c, depth, lab, "tk(%d)" % js[0], "w%d" % js[0])
            else:
                args = ["tk(%d)" % j for j in js]
                args += [self.new_coro(c) for _ in range(self.pick([(5, 0), (3, 1), (1, 2)]))]
                self.consume_gather(c, depth, lab, args)
        return write

    def items(self, c):
        creates = [self.create_item(j) for j in c.creates]
        consumes = [self.consume_item(k, js) for k, js in c.consumes]
        self.rng.shuffle(consumes)
        return creates + consumes

    def task_body(self, t):
        t.lines.append("async def %s():" % t.name)
        self.emit(t, 1, "print('%s start')" % t.name)
        self.body(t, 1, self.items(t), self.rng.randint(1, 5), {})
        if self.chance(0.2):
            self.s_raise(t, 1, {})
        else:
            self.emit(t, 1, "print('%s end')\nreturn '%s'" % (t.name, t.name))
        self.coros.append(t)

    def main_body(self):
        m = self.main
        m.lines.append("async def main():")
        self.emit(m, 1, "global T0, M\nT0 = ticks_ms()\nM = asyncio.current_task()")
        h = self.pick([(55, "handler"), (5, "bad_handler"), (40, None)])
        if h:
            self.feature("exception handler" if h == "handler" else "raising exception handler")
            self.emit(m, 1, "asyncio.get_event_loop().set_exception_handler(%s)" % h)
        self.emit(m, 1, "print('m start')\nasyncio.create_task(releaser())")
        self.body(m, 1, self.items(m), self.rng.randint(3, 9), {})
        self.emit(m, 1, "print('m finish')\nawait asyncio.sleep_ms(left(@FIN@))")
        self.emit(m, 1, "print('m end')\nreturn 'main'")

    # -- slots ----------------------------------------------------------------------------

    def assign_slots(self):
        """A random order of the timed operations in which each comes after its
        predecessor; slot k+1 for the k-th."""
        waiting = list(self.ops)
        slot = 1  # slot 1 is left free: main's first steps may take a few ms
        while waiting:
            ready = [op for op in waiting if op.pred is None or op.pred.slot is not None]
            op = self.rng.choice(ready)
            slot += 1
            op.slot = slot
            waiting.remove(op)
        return slot + 1

    def program(self):
        text = self.write()
        compile(text, "seed%d.py" % self.seed, "exec")  # a generator bug if this fails
        return text

    def write(self):
        self.plan()
        self.main_body()
        rel = self.assign_slots()
        runner = self.pick([(75, RUN), (10, RUN_UNTIL_COMPLETE), (5, RUN_FOREVER), (10, RUN_TWICE)])
        self.feature({RUN: "asyncio.run", RUN_UNTIL_COMPLETE: "run_until_complete",
                      RUN_FOREVER: "run_forever", RUN_TWICE: "asyncio.run twice"}[runner])
        head = PRELUDE.format(
            slot=self.slot_ms, ntasks=self.ntasks + 1, nevents=self.nevents,
            nlocks=self.nlocks, nflags=self.nflags, rel=rel, rel_end=rel + 10,
            raising=RAISING_HANDLER if "raising exception handler" in self.features else "")
        parts = ["# fuzz program, seed %d (conformance/fuzz/gen.py)" % self.seed, head]
        for c in sorted(self.coros, key=lambda c: (c.role != "task", c.index, c.name)):
            parts.append("\n".join(c.lines) + "\n")
        parts.append("\n".join(self.main.lines) + "\n")
        parts.append(POSTLUDE.format(runner=runner))
        text = "\n\n".join(parts)
        for op in self.ops:
            text = text.replace(op.ref(), str(op.slot))
        return text.replace("@FIN@", str(rel + 1)).replace("@FIN2@", str(rel + 3))


def generate(seed, slot_ms=20):
    """The program for `seed`, as Python source."""
    return Gen(seed, slot_ms).program()


def features(seed, slot_ms=20):
    g = Gen(seed, slot_ms)
    g.program()
    return g.features


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("seed", nargs="?", type=int)
    ap.add_argument("--slot", type=int, default=20, help="milliseconds between deadlines")
    ap.add_argument("-o", "--output", help="write the program here instead of stdout")
    ap.add_argument("--stats", metavar="A:B", help="count the features used by seeds A..B-1")
    args = ap.parse_args()
    if args.stats:
        a, b = (int(x) for x in args.stats.split(":"))
        counts = {}
        for s in range(a, b):
            for f in features(s, args.slot):
                counts[f] = counts.get(f, 0) + 1
        for f in sorted(counts, key=lambda f: -counts[f]):
            print("%6d  %s" % (counts[f], f))
        return 0
    if args.seed is None:
        ap.error("a seed is needed")
    text = generate(args.seed, args.slot)
    if args.output:
        with open(args.output, "w") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
