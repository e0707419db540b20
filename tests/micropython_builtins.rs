//! What MicroPython gives a script without an import, which MicroPython programs (and the
//! feature checks of MicroPython's own test runner) use: `const`, the `micropython` decorators,
//! `value` on every exception, and MicroPython's repr of exceptions.

mod common;

use common::microloop_c;

#[test]
fn const_and_micropython_decorators_need_no_import() {
    let out = microloop_c(
        "LIMIT = const(20)\n\
         @micropython.native\n\
         def half(x):\n    return x // 2\n\
         @micropython.viper\n\
         def plus(x: int) -> int:\n    return x + 1\n\
         @micropython.bytecode\n\
         def minus(x):\n    return x - 1\n\
         import micropython\n\
         print(half(LIMIT), plus(LIMIT), minus(LIMIT), const is micropython.const)\n",
    );
    assert_eq!((out.stdout.as_str(), out.stderr.as_str(), out.code), ("10 21 19 True\n", "", Some(0)));
}

/// `value` is the first argument or None, as in MicroPython; a class or instance that sets its
/// own `value` keeps it.
#[test]
fn every_exception_has_value() {
    let out = microloop_c(
        "print(KeyError('k').value, IndexError().value, OSError(5, 'EIO').value, RuntimeError(1, 2).value)\n\
         try:\n    (lambda: 0)(1)\nexcept TypeError as e:\n    print(e.value == e.args[0])\n\
         class Carries(Exception):\n    def __init__(self, value):\n        super().__init__('carries')\n        self.value = value\n\
         class Fixed(Exception):\n    value = 'fixed'\n\
         print(Carries(9).value, Carries(9).args, Fixed(1).value, StopIteration(3).value)\n",
    );
    assert_eq!(out.stdout, "k None 5 1\nTrue\n9 ('carries',) fixed 3\n", "{}", out.stderr);
}

/// MicroPython shows an exception as its class name and the repr of its arguments:
/// `ValueError(2,)` with one argument, where CPython shows `ValueError(2)`.
#[test]
fn exception_repr_is_micropythons() {
    let out = microloop_c(
        "class Mine(Exception):\n    pass\n\
         class Shown(Exception):\n    def __repr__(self):\n        return 'shown'\n\
         print(repr(ValueError('v')), repr(KeyError()), repr(RuntimeError(2, 'x')), [Mine(1)], repr(Shown(1)))\n\
         print('%r' % (StopIteration(0),), f'{SystemExit(3)!r}', BaseException.__repr__(Mine()))\n",
    );
    assert_eq!(
        out.stdout,
        "ValueError('v',) KeyError() RuntimeError(2, 'x') [Mine(1,)] shown\nStopIteration(0,) SystemExit(3,) Mine()\n",
        "{}",
        out.stderr
    );
}

/// A coroutine that never ran is dropped without the VM's "was never awaited" warning, as on
/// MicroPython: one made and dropped, and the awaitables of a gather whose task was cancelled
/// before the gather was awaited. (The output is MicroPython's.)
#[test]
fn an_unstarted_coroutine_is_dropped_silently() {
    let out = microloop_c(
        "import asyncio\n\
         async def child(n):\n    print('child', n)\n\
         async def parent():\n    g = asyncio.gather(child(1), child(2))\n    await asyncio.sleep(1)\n    await g\n\
         async def main():\n    c = child(0)\n    del c\n    t = asyncio.create_task(parent())\n    await asyncio.sleep(0)\n    t.cancel()\n    await asyncio.sleep(0)\n    print('done')\n\
         asyncio.run(main())\n",
    );
    assert_eq!((out.stdout.as_str(), out.stderr.as_str(), out.code), ("done\n", "", Some(0)));
}
