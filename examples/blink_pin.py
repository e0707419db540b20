# Two LEDs blinking at their own pace: the example of MicroPython's asyncio documentation,
# generic board form (machine.Pin). Each LED is on for 5 ms, then off for its period.
#
#   microloop examples/blink_pin.py                          # watch it live for 10 s
#   microloop --virtual-time --vcd blink.vcd examples/blink_pin.py   # the same 10 s at once
import asyncio


async def blink(led, period_ms):
    while True:
        led.on(); await asyncio.sleep_ms(5)
        led.off(); await asyncio.sleep_ms(period_ms)


async def main(led1, led2):
    asyncio.create_task(blink(led1, 700))
    asyncio.create_task(blink(led2, 400))
    await asyncio.sleep_ms(10_000)


from machine import Pin; asyncio.run(main(Pin(1), Pin(2)))   # generic board form
