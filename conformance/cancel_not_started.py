# Cancelling a task that was created but never ran: its body never
# executes (not even a try/finally inside it), and awaiting it raises
# CancelledError.
import asyncio

ran = []


async def never():
    try:
        ran.append("body")
        print("body ran?")
        await asyncio.sleep(0)
    finally:
        ran.append("finally")
        print("finally ran?")


async def main():
    t = asyncio.create_task(never())
    print("done() before cancel:", t.done())
    print("cancel ->", t.cancel())
    try:
        await t
        print("no exception?")
    except asyncio.CancelledError:
        print("await raised CancelledError")
    print("ran:", ran)
    print("done() =", t.done())
    print("done")


asyncio.run(main())
