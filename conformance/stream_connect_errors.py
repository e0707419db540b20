# Failed connections raise OSError: a refused port with ECONNREFUSED, an unknown host name
# with the resolver's error.
import asyncio
import errno

PORT = 18307


async def main():
    try:
        await asyncio.open_connection("127.0.0.1", PORT)
    except OSError as e:
        print("refused:", e.errno == errno.ECONNREFUSED)
    try:
        await asyncio.open_connection("no-such-host.invalid", PORT)
    except OSError as e:
        print("unknown host: OSError", e.errno is not None and e.errno < 0)
    print("done")


asyncio.run(main())
