# json (bench/run's name for this script; `json.py` would shadow the json module): json.dumps
# and json.loads of three typical payloads, over and over for about DURATION seconds: a small
# dict (a sensor reading), a list of 100 records (an API listing), a nested configuration.
# Each round encodes and decodes the small one 10 times, the configuration 3 times and the list
# once; prints operations (dumps or loads calls) per second, then each payload's own rate and
# its length encoded, in characters (MicroPython's are shorter: it writes non-ASCII characters
# as they are, not as \u escapes). Each payload must come back equal from a round trip first.
# Usage: json_codec.py [SECONDS]. Runs unchanged under microloop, CPython 3 and MicroPython.
import json
import sys

from _clock import now, since

DURATION = 2.0


SMALL = {"id": 42, "sensor": "bme280-7", "ok": True, "temp": 21.5, "humidity": 48.25, "alarm": None, "tags": ["indoor", "lab"]}

RECORDS = [
    {
        "id": i,
        "name": "user%03d" % i,
        "email": "user%03d@example.com" % i,
        "active": i % 3 != 0,
        "score": (i * 7919 % 1000) / 8,
        "roles": ["admin", "dev"] if i % 10 == 0 else ["dev"],
        "last_login": 1700000000 + i * 3600,
        "note": None if i % 4 else "first \"quoted\" line\nsecond line\tcaf\u00e9",
    }
    for i in range(100)
]

CONFIG = {
    "version": 3,
    "device": {"name": "gateway-01", "location": {"site": "north", "rack": 4, "slot": 12}, "debug": False},
    "network": {
        "wifi": {"ssid": "lab-net", "channel": 11, "power_dbm": 17.5, "hidden": False},
        "mqtt": {"host": "10.0.0.5", "port": 1883, "keepalive": 60, "topics": ["sensors/+/temp", "sensors/+/rh", "cmd/#"]},
        "dns": ["10.0.0.1", "9.9.9.9"],
    },
    "sensors": [
        {"bus": "i2c0", "address": 118, "kind": "bme280", "period_ms": 1000, "calibration": [1.0, -0.25, 0.125]},
        {"bus": "i2c0", "address": 64, "kind": "sht31", "period_ms": 2000, "calibration": [0.5, 0.0]},
        {"bus": "spi1", "address": 0, "kind": "max31865", "period_ms": 500, "calibration": []},
    ],
    "limits": {"temp": {"low": -10, "high": 45.5}, "humidity": {"low": 5, "high": 95}},
    "schedule": [[0, 6, "night"], [6, 18, "day"], [18, 24, "evening"]],
    "banner": "\u00b0C readings \u2014 \"gateway\" \\ v3",
}

# (name, payload, times per round)
PAYLOADS = (("small", SMALL, 10), ("config", CONFIG, 3), ("records", RECORDS, 1))


def main():
    duration = float(sys.argv[1]) if len(sys.argv) > 1 else DURATION
    texts = {}
    for name, payload, _ in PAYLOADS:
        text = json.dumps(payload)
        if json.loads(text) != payload:
            raise SystemExit("json: %s did not come back equal from a round trip" % name)
        texts[name] = text
    spent = {}
    counts = {}
    for name, _, _ in PAYLOADS:
        spent[name] = 0.0
        counts[name] = 0
    total = 0.0
    while total < duration:
        for name, payload, times in PAYLOADS:
            text = texts[name]
            start = now()
            for _ in range(times):
                json.dumps(payload)
                json.loads(text)
            took = since(start)
            spent[name] += took
            counts[name] += 2 * times
            total += took
    ops = 0
    for name in counts:
        ops += counts[name]
    details = ["%s=%d/s,%dchars" % (name, counts[name] / spent[name], len(texts[name])) for name, _, _ in PAYLOADS]
    print("json", int(ops / total), "ops/s", " ".join(details))


main()
