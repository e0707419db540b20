# `asyncio.locks`, as in CPython's asyncio package: re-exports from the native module.
from asyncio import Barrier, BoundedSemaphore, Condition, Event, Lock, Semaphore
