# `asyncio.runners`, as in CPython's asyncio package: re-exports.
from asyncio import Runner, run
