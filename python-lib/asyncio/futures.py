# `asyncio.futures`, as in CPython's asyncio package: re-exports from the native module.
from asyncio import Future, isfuture
