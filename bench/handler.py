# handler: the `http` workload's request handling without sockets: _webapp.py's app parses,
# routes, handles and serialises a fixed list of raw HTTP/1.1 requests (the wrk mix of
# bench/http_mix.lua, plus Connection: close, HTTP/1.0, a 404, a 405, malformed JSON and an
# invalid item), over and over for about DURATION seconds; prints requests per second, then
# the bytes of one pass's responses and their status codes (the same under every interpreter).
# Usage: handler.py [SECONDS]. Runs unchanged under microloop, CPython 3 and MicroPython.
import sys

from _clock import now, since

import _webapp

DURATION = 2.0


def get(target, extra=""):
    return ("GET %s HTTP/1.1\r\nHost: 127.0.0.1:18911\r\nUser-Agent: bench\r\nAccept: */*\r\n%s\r\n" % (target, extra)).encode()


def post(target, body, content_type="application/json"):
    body = body.encode()
    head = "POST %s HTTP/1.1\r\nHost: 127.0.0.1:18911\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n"
    return (head % (target, content_type, len(body))).encode() + body


TAGS = ("red", "green", "blue", "small", "large", "sale")
OWNERS = ("ada", "brian", "chen", "dora")


def requests():
    reqs = []
    for n in range(1, 25):
        k = n % 4
        if k == 0:
            body = '{"name": "widget %d", "owner": "%s", "price": %d.25, "stock": %d, "tags": ["%s", "%s"]}' % (
                n, OWNERS[n % 4], n % 500, n % 40, TAGS[n % 6], TAGS[(n + 3) % 6])
            reqs.append(post("/api/items", body))
        elif k == 1:
            reqs.append(get("/api/items?limit=5&offset=%d&tag=%s&fields=id,name,price" % (n % 20, TAGS[n % 6])))
        elif k == 2:
            reqs.append(get("/api/items/%d" % (n % 120 + 1)))
        else:
            item = n % 100 + 1
            reqs.append(get("/api/users/%s/items/%d?verbose=1" % (OWNERS[(item - 1) % 4], item)))
    reqs.append(get("/api/health", "Connection: close\r\n"))
    reqs.append(get("/api/items?owner=chen&limit=3&q=caf%C3%A9+cr%c3%a8me").replace(b"HTTP/1.1", b"HTTP/1.0"))
    reqs.append(get("/api/nothing/here"))
    reqs.append(get("/api/items?limit=ten"))
    reqs.append(post("/api/items/3", '{"name": "x"}'))
    reqs.append(post("/api/items", '{"name": "broken", '))
    reqs.append(post("/api/items", '{"name": "bad", "price": -1}'))
    reqs.append(post("/api/items", '{"name": "text"}', "text/plain"))
    return reqs


def one_pass(app, reqs):
    total = 0
    statuses = {}
    for raw in reqs:
        response, keep_alive = _webapp.handle_bytes(app, raw)
        total += len(response)
        status = response[9:12]
        statuses[status] = statuses.get(status, 0) + 1
    return total, statuses


def main():
    duration = float(sys.argv[1]) if len(sys.argv) > 1 else DURATION
    reqs = requests()
    app = _webapp.make_app()
    size, statuses = one_pass(app, reqs)  # warm-up, and the check line
    done = 0
    start = now()
    while True:
        one_pass(app, reqs)
        done += len(reqs)
        elapsed = since(start)
        if elapsed >= duration:
            break
    codes = ",".join("%s:%d" % (s.decode(), statuses[s]) for s in sorted(statuses))
    print("handler", int(done / elapsed), "requests/s", "bytes=%d" % size, "status=" + codes)


main()
