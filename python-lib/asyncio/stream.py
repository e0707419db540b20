# `asyncio.stream`, as in MicroPython's asyncio package: the stream API lives in the native
# asyncio module; this submodule only re-exports it.
from asyncio import Server, Stream, StreamReader, StreamWriter, open_connection, start_server
