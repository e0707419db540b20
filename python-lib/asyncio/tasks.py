# `asyncio.tasks`, as in CPython's asyncio package: re-exports from the native module and from
# asyncio._cpython (CPython's functions MicroPython's asyncio lacks).
from asyncio import (
    ALL_COMPLETED,
    FIRST_COMPLETED,
    FIRST_EXCEPTION,
    Task,
    all_tasks,
    as_completed,
    create_task,
    current_task,
    ensure_future,
    gather,
    shield,
    sleep,
    to_thread,
    wait,
    wait_for,
)
