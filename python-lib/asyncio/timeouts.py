# `asyncio.timeouts`, as in CPython's asyncio package: re-exports from asyncio._cpython.
from asyncio import Timeout, timeout, timeout_at
