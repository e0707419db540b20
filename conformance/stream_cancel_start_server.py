# A task cancelled while it awaits start_server gets CancelledError there (the server it was
# starting is closed), and the port is free again for the next server.
import asyncio

PORT = 18313


async def on_client(reader, writer):
    writer.close()


async def starter():
    try:
        await asyncio.start_server(on_client, "127.0.0.1", PORT)
        print("starter: started")
    except asyncio.CancelledError:
        print("starter: cancelled")
        raise
    except Exception as e:
        print("starter:", type(e).__name__, e)


async def main():
    t = asyncio.create_task(starter())
    await asyncio.sleep(0)
    print("cancel ->", t.cancel())
    try:
        await t
    except asyncio.CancelledError:
        print("main: starter raised CancelledError")
    server = await asyncio.start_server(on_client, "127.0.0.1", PORT)
    print("second server started")
    server.close()
    await server.wait_closed()
    print("done")


asyncio.run(main())
