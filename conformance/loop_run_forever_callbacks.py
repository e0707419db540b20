# loop.run_forever, stop, run_until_complete and close driving call_soon / call_later
# callbacks and a future from outside any task.
import asyncio
loop = asyncio.new_event_loop()
loop.call_soon(print, "first")
loop.call_later(0.02, loop.stop)
loop.call_later(0.01, print, "timer")
loop.run_forever()
print("stopped 1")
loop.call_soon(print, "a")
loop.call_soon(loop.stop)
loop.call_soon(print, "b")
loop.run_forever()
print("stopped 2")
fut = loop.create_future()
loop.call_later(0.01, fut.set_result, "fut result")
print(loop.run_until_complete(fut))
loop.close()
print("done")
