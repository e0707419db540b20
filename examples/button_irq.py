# A push button on pin 5, wired to ground (pressed reads 0, the pull-up holds it at 1 otherwise),
# toggles the LED on pin 25. The interrupt handler only sets a ThreadSafeFlag, and a task does
# the work: the pattern MicroPython's asyncio documentation recommends for interrupts. The task
# waits 20 ms for the contacts to settle, so bounces and glitches do not count as presses.
#
#   microloop --virtual-time --stimulus examples/button.stim examples/button_irq.py
#
# Without a stimulus file (or a real button, see --gpio) it waits for presses forever.
import asyncio
import time
from machine import Pin

SETTLE_MS = 20


async def main():
    button = Pin(5, Pin.IN, Pin.PULL_UP)
    led = Pin(25, Pin.OUT, value=0)
    pressed = asyncio.ThreadSafeFlag()
    button.irq(lambda pin: pressed.set(), Pin.IRQ_FALLING)
    presses = 0
    while presses < 3:
        await pressed.wait()
        t = time.ticks_ms()
        await asyncio.sleep_ms(SETTLE_MS)
        pressed.clear()  # edges while settling were bounces of this press
        if button.value():
            print("glitch at", t, "ms ignored")
            continue
        presses += 1
        led.toggle()
        print("press", presses, "at", t, "ms: LED", "on" if led.value() else "off")
    print("done")


asyncio.run(main())
