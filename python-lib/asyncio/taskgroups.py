# `asyncio.taskgroups`, as in CPython's asyncio package: re-exports from asyncio._cpython.
from asyncio import TaskGroup
