# `asyncio.exceptions`, as in CPython's asyncio package: re-exports from the native module.
from asyncio import (
    BrokenBarrierError,
    CancelledError,
    IncompleteReadError,
    InvalidStateError,
    LimitOverrunError,
    TimeoutError,
)
