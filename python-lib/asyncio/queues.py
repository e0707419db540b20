# `asyncio.queues`, as in CPython's asyncio package: re-exports from the native module.
from asyncio import LifoQueue, PriorityQueue, Queue, QueueEmpty, QueueFull, QueueShutDown
