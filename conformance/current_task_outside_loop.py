# current_task() outside a running loop raises RuntimeError, before and
# after asyncio.run(); inside it returns a task.
import asyncio

try:
    asyncio.current_task()
    print("no error before run?")
except RuntimeError as e:
    print("before run:", type(e).__name__)


async def main():
    return asyncio.current_task() is not None


print("inside:", asyncio.run(main()))
try:
    asyncio.current_task()
    print("no error after run?")
except RuntimeError as e:
    print("after run:", type(e).__name__)
print("done")
