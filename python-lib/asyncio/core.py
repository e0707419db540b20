# `asyncio.core`, as in MicroPython's asyncio package: re-exports from the native module.
from asyncio import (
    CancelledError,
    Loop,
    TimeoutError,
    create_task,
    current_task,
    get_event_loop,
    new_event_loop,
    run,
    sleep,
    sleep_ms,
)
