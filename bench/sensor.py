# sensor: a MicroPython-style acquisition pipeline. A producer task, paced by the loop
# (`await asyncio.sleep_ms(0)` after each burst, or sleep(0) where there is no sleep_ms), reads
# BURST samples per tick from a simulated sensor, packs each with struct.pack_into into its
# slot of a preallocated ring buffer (a bytearray) and sets an asyncio.Event; a consumer task
# woken by the Event unpacks every new frame, keeps a moving average over the last WINDOW
# temperatures, counts alarms, and sums up each block of BLOCK readings (min, max, mean).
# Prints readings per second, then figures of the data (the same under every interpreter).
# Usage: sensor.py [READINGS]. Runs unchanged under microloop, CPython 3 and MicroPython.
import asyncio
import struct
import sys

from _clock import now, since

READINGS = 100_000
BURST = 4
SLOTS = 64  # frames in the ring
WINDOW = 16  # readings in the moving average
BLOCK = 500  # readings per summary
HIGH = 2150  # alarm when the moving average of the temperature (centidegrees) is above
FRAME_FORMAT = "<IhHhH"  # sequence, temperature (0.01 C), humidity (0.01 %), pressure delta (Pa), status
FRAME = struct.calcsize(FRAME_FORMAT)


if hasattr(asyncio, "sleep_ms"):

    def pause():
        return asyncio.sleep_ms(0)

else:

    def pause():
        return asyncio.sleep(0)


class Ring:
    def __init__(self):
        self.buf = bytearray(SLOTS * FRAME)
        self.head = 0  # frames written
        self.tail = 0  # frames read
        self.overruns = 0
        self.done = False


async def producer(ring, ready, count):
    seed = 12345
    seq = 0
    drift = 0
    while seq < count:
        for _ in range(BURST):
            seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
            noise = (seed >> 12) % 201 - 100
            if seq % 1000 == 0:
                drift = (seq // 1000) % 7 * 40 - 120
            temp = 2100 + drift + noise
            humidity = 4500 + (seed >> 20) % 300
            pressure = (seed >> 4) % 400 - 200
            status = 1 if noise > 95 else 0
            if ring.head - ring.tail >= SLOTS:  # full: the oldest frame is lost
                ring.tail += 1
                ring.overruns += 1
            struct.pack_into(FRAME_FORMAT, ring.buf, (ring.head % SLOTS) * FRAME, seq, temp, humidity, pressure, status)
            ring.head += 1
            seq += 1
        ready.set()
        await pause()
    ring.done = True
    ready.set()


async def consumer(ring, ready, stats):
    window = [HIGH - 100] * WINDOW
    total = (HIGH - 100) * WINDOW
    at = 0
    expected = 0
    block = []
    while True:
        await ready.wait()
        ready.clear()
        while ring.tail < ring.head:
            seq, temp, humidity, pressure, status = struct.unpack_from(FRAME_FORMAT, ring.buf, (ring.tail % SLOTS) * FRAME)
            ring.tail += 1
            if seq != expected:
                stats["gaps"] += 1
            expected = seq + 1
            total += temp - window[at]
            window[at] = temp
            at = (at + 1) % WINDOW
            if total > HIGH * WINDOW:
                stats["alarms"] += 1
            stats["flags"] += status
            block.append(temp)
            if len(block) == BLOCK:
                stats["blocks"].append((min(block), max(block), sum(block) // BLOCK, humidity))
                block = []
        if ring.done and ring.tail == ring.head:
            break
    stats["readings"] = expected


async def main(count):
    ring = Ring()
    ready = asyncio.Event()
    stats = {"gaps": 0, "alarms": 0, "flags": 0, "blocks": []}
    reader = asyncio.create_task(consumer(ring, ready, stats))
    await producer(ring, ready, count)
    await reader
    stats["overruns"] = ring.overruns
    return stats


count = int(sys.argv[1]) if len(sys.argv) > 1 else READINGS
start = now()
stats = asyncio.run(main(count))
elapsed = since(start)
blocks = stats["blocks"]
means = 0
for low, high, mean, humidity in blocks:
    means += mean
print(
    "sensor", int(count / elapsed), "readings/s",
    "alarms=%d flags=%d blocks=%d mean=%d low=%d high=%d gaps=%d overruns=%d" % (
        stats["alarms"], stats["flags"], len(blocks), means // len(blocks),
        min(b[0] for b in blocks), max(b[1] for b in blocks), stats["gaps"], stats["overruns"]),
)
