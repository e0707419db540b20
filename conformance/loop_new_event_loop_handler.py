# new_event_loop() drops queued tasks but keeps the installed exception handler.
import asyncio
def h(loop, ctx): print("handler", ctx["message"])
asyncio.get_event_loop().set_exception_handler(h)
fresh = asyncio.new_event_loop()
print(asyncio.get_event_loop().get_exception_handler() is h)
fresh.close()
print("done")
