# A wait_for cancelled from outside whose task swallows the CancelledError: its runner
# outlives it and, when the awaitable ends, cancels the task's next wait_for with the outcome
# it carries, as MicroPython's does.
import asyncio
async def quick(): await asyncio.sleep(0)
async def slow():
    await asyncio.sleep_ms(50); print('slow end')
async def w():
    try: await asyncio.wait_for(quick(), 1)
    except asyncio.CancelledError as e: print('w first', type(e).__name__, e.args)
    try: print('w second ->', await asyncio.wait_for_ms(slow(), 100))
    except asyncio.CancelledError as e: print('w second', type(e).__name__, e.args)
async def main():
    t = asyncio.create_task(w()); await asyncio.sleep(0)
    print('cancel', t.cancel()); await asyncio.sleep_ms(150); print('main end')
asyncio.run(main())
