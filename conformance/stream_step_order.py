# Two clients and a server in one process: the order in which reads, drains and the accept
# loop take their steps among other tasks (each read first waits for the poller, as
# MicroPython's stream reads do).
import asyncio
PORT = 18320
async def serve(r, w):
    n = 0
    while True:
        l = await r.readline()
        print('srv line', l)
        if not l:
            break
        n += 1
        w.write(l.upper())
        await w.drain()
        print('srv drained', n)
    w.close()
    await w.wait_closed()
    print('srv closed')
async def ticker():
    for i in range(12):
        print('tick', i)
        await asyncio.sleep(0)
async def client(name, lines):
    r, w = await asyncio.open_connection('127.0.0.1', PORT)
    print(name, 'connected')
    w.write(b''.join(lines))
    await w.drain()
    print(name, 'sent')
    for _ in lines:
        print(name, 'got', await r.readline())
    w.close()
    await w.wait_closed()
    print(name, 'closed')
async def reader_all():
    r, w = await asyncio.open_connection('127.0.0.1', PORT)
    w.write(b'x\ny\n')
    await w.drain()
    print('ra got', await r.readexactly(2))
    w.close()
    await w.wait_closed()
async def main():
    srv = await asyncio.start_server(serve, '127.0.0.1', PORT)
    print('started')
    t = asyncio.create_task(ticker())
    await asyncio.gather(client('a', [b'one\n', b'two\n']), client('b', [b'three\n']))
    await reader_all()
    await t
    srv.close()
    await srv.wait_closed()
    print('done')
asyncio.run(main())
