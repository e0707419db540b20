# The application that the `http` and `handler` workloads share: a small HTTP/1.1 JSON API
# written the way MicroPython web frameworks write theirs (a Request built from the request line
# and header lines, a router of `re` patterns with path parameters, query strings, JSON bodies
# in and out, keep-alive). `http_server.py` feeds it from asyncio streams, `handler.py` from
# byte strings in memory. Not a workload itself: bench/run skips files whose names start with
# `_`. Runs unchanged under microloop, CPython 3 and MicroPython.
import json
import re

MAX_BODY = 16 * 1024
REASONS = {
    200: "OK",
    201: "Created",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    422: "Unprocessable Entity",
}
HEXDIGITS = "0123456789abcdefABCDEF"


class HTTPError(Exception):
    def __init__(self, status, message=None):
        super().__init__(status, message)
        self.status = status
        self.message = message or REASONS.get(status, "Error")


def unquote(text):
    """Percent-decoding of a path or query component, `+` as a space."""
    if "%" not in text and "+" not in text:
        return text
    text = text.replace("+", " ")
    parts = text.split("%")
    out = bytearray(parts[0].encode())
    for part in parts[1:]:
        if len(part) >= 2 and part[0] in HEXDIGITS and part[1] in HEXDIGITS:
            out.append(int(part[:2], 16))
            out += part[2:].encode()
        else:
            out += b"%" + part.encode()
    return bytes(out).decode()


def parse_query(text):
    args = {}
    if text:
        for pair in text.split("&"):
            if pair:
                key, _, value = pair.partition("=")
                args[unquote(key)] = unquote(value)
    return args


class Request:
    def __init__(self, method, target, version):
        self.method = method
        path, _, query = target.partition("?")
        self.path = unquote(path)
        self.query_string = query
        self.args = parse_query(query)
        self.version = version
        self.headers = {}
        self.body = b""
        self.params = {}

    @property
    def content_length(self):
        value = self.headers.get("content-length")
        if value is None:
            return 0
        if not value.isdigit():
            raise HTTPError(400, "bad Content-Length")
        length = int(value)
        if length > MAX_BODY:
            raise HTTPError(413)
        return length

    @property
    def keep_alive(self):
        connection = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return connection == "keep-alive"
        return connection != "close"

    def json(self):
        if not self.headers.get("content-type", "").startswith("application/json"):
            raise HTTPError(400, "expected application/json")
        try:
            return json.loads(self.body)
        except ValueError:
            raise HTTPError(400, "malformed JSON")


def parse_request_line(line):
    parts = line.decode().split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise HTTPError(400, "bad request line")
    return Request(parts[0], parts[1], parts[2])


def parse_header(request, line):
    name, sep, value = line.decode().partition(":")
    if not sep:
        raise HTTPError(400, "bad header")
    request.headers[name.strip().lower()] = value.strip()


class Response:
    def __init__(self, body=None, status=200, headers=None):
        self.status = status
        self.headers = headers or {}
        if body is None:
            self.body = b""
        elif isinstance(body, (bytes, bytearray)):
            self.body = body
        elif isinstance(body, str):
            self.body = body.encode()
            self.headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        else:
            self.body = json.dumps(body).encode()
            self.headers["Content-Type"] = "application/json"

    def encode(self, keep_alive):
        """The response as bytes: status line, headers, Content-Length, body."""
        lines = ["HTTP/1.1 %d %s" % (self.status, REASONS.get(self.status, "Unknown"))]
        for name in self.headers:
            lines.append("%s: %s" % (name, self.headers[name]))
        lines.append("Content-Length: %d" % len(self.body))
        lines.append("Connection: " + ("keep-alive" if keep_alive else "close"))
        lines.append("Server: microbench")
        lines.append("\r\n")
        return "\r\n".join(lines).encode() + self.body


def error_response(error):
    return Response({"error": error.status, "message": error.message}, error.status)


def compile_route(pattern):
    """'/api/items/<int:item_id>' -> (regex, [(name, converter)])."""
    regex = "^"
    params = []
    for segment in pattern.split("/")[1:]:
        regex += "/"
        if segment.startswith("<") and segment.endswith(">"):
            kind, _, name = segment[1:-1].rpartition(":")
            if kind == "int":
                regex += "([0-9]+)"
                params.append((name, int))
            else:
                regex += "([^/]+)"
                params.append((name, None))
        else:
            for ch in segment:
                regex += "\\" + ch if ch in ".^$*+?{}[]|()\\" else ch
    return re.compile(regex + "$"), params


class App:
    def __init__(self):
        self.routes = []

    def route(self, pattern, methods=("GET",)):
        regex, params = compile_route(pattern)

        def register(handler):
            self.routes.append((regex, params, methods, handler))
            return handler

        return register

    def dispatch(self, request):
        """Runs the route that matches `request`; always returns a Response."""
        allowed = []
        for regex, params, methods, handler in self.routes:
            match = regex.match(request.path)
            if match is None:
                continue
            if request.method not in methods:
                allowed.extend(methods)
                continue
            kwargs = {}
            for i in range(len(params)):
                name, convert = params[i]
                value = match.group(i + 1)
                kwargs[name] = convert(value) if convert else unquote(value)
            request.params = kwargs
            try:
                result = handler(request, **kwargs)
            except HTTPError as error:
                return error_response(error)
            if isinstance(result, Response):
                return result
            return Response(result)
        if allowed:
            response = error_response(HTTPError(405))
            response.headers["Allow"] = ", ".join(allowed)
            return response
        return error_response(HTTPError(404))


# The API: a store of items (a hundred to start with, ids 1-100, and the newest hundred that
# POSTs added, ids 101-200, each POST taking the place of the oldest), listed with paging and a
# tag or owner filter, fetched by id, fetched through their owner, added.

TAGS = ("red", "green", "blue", "small", "large", "sale")
OWNERS = ("ada", "brian", "chen", "dora")
SEEDED = 100
ADDED = 100


def int_arg(args, name, default, low, high):
    value = args.get(name)
    if value is None:
        return default
    if not value.isdigit():
        raise HTTPError(400, "%s must be a number" % name)
    return min(max(int(value), low), high)


class Store:
    def __init__(self):
        self.items = {}
        self.added = 0
        for i in range(SEEDED):
            self.put(
                i + 1,
                {
                    "name": "item-%d" % i,
                    "owner": OWNERS[i % len(OWNERS)],
                    "price": (i * 37 % 1000) / 4,
                    "stock": i * 7 % 50,
                    "tags": [TAGS[i % 6], TAGS[(i // 6) % 6]],
                },
            )

    def put(self, item_id, fields):
        item = {"id": item_id}
        for key in fields:
            item[key] = fields[key]
        self.items[item_id] = item
        return item

    def add(self, fields):
        self.added += 1
        return self.put(SEEDED + 1 + (self.added - 1) % ADDED, fields)

    def get(self, item_id):
        item = self.items.get(item_id)
        if item is None:
            raise HTTPError(404, "no item %d" % item_id)
        return item

    def select(self, tag=None, owner=None):
        found = []
        for item_id in range(1, SEEDED + ADDED + 1):
            item = self.items.get(item_id)
            if item is None:
                continue
            if tag is not None and tag not in item["tags"]:
                continue
            if owner is not None and item["owner"] != owner:
                continue
            found.append(item)
        return found


def make_app():
    app = App()
    store = Store()

    @app.route("/api/health")
    def health(request):
        return {"status": "ok", "items": len(store.items)}

    @app.route("/api/items")
    def list_items(request):
        limit = int_arg(request.args, "limit", 10, 1, 50)
        offset = int_arg(request.args, "offset", 0, 0, 1000000)
        found = store.select(request.args.get("tag"), request.args.get("owner"))
        page = found[offset : offset + limit]
        fields = request.args.get("fields")
        if fields:
            names = fields.split(",")
            page = [dict((n, item[n]) for n in names if n in item) for item in page]
        return {"total": len(found), "offset": offset, "limit": limit, "items": page}

    @app.route("/api/items/<int:item_id>")
    def get_item(request, item_id):
        return store.get(item_id)

    @app.route("/api/items", methods=("POST",))
    def create_item(request):
        data = request.json()
        if not isinstance(data, dict):
            raise HTTPError(422, "expected an object")
        name = data.get("name")
        price = data.get("price")
        tags = data.get("tags", [])
        if not isinstance(name, str) or not name or len(name) > 64:
            raise HTTPError(422, "name must be a non-empty string")
        if not isinstance(price, (int, float)) or isinstance(price, bool) or price < 0:
            raise HTTPError(422, "price must be a number >= 0")
        if not isinstance(tags, list) or [t for t in tags if t not in TAGS]:
            raise HTTPError(422, "unknown tag")
        item = store.add(
            {
                "name": name,
                "owner": data.get("owner", OWNERS[0]),
                "price": price,
                "stock": int(data.get("stock", 0)),
                "tags": tags,
            }
        )
        return Response(item, 201, {"Location": "/api/items/%d" % item["id"]})

    @app.route("/api/users/<owner>/items/<int:item_id>")
    def owner_item(request, owner, item_id):
        item = store.get(item_id)
        if item["owner"] != owner:
            raise HTTPError(404, "%s has no item %d" % (owner, item_id))
        return {"owner": owner, "item": item}

    return app


def handle_bytes(app, raw):
    """Parses one whole request in `raw`, routes it, handles it; returns (response bytes,
    keep_alive). The in-memory counterpart of http_server.py's stream loop."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    try:
        request = parse_request_line(lines[0])
        for line in lines[1:]:
            parse_header(request, line)
        length = request.content_length
        if len(body) < length:
            raise HTTPError(400, "body shorter than Content-Length")
        request.body = body[:length]
        keep_alive = request.keep_alive
        response = app.dispatch(request)
    except HTTPError as error:
        keep_alive = False
        response = error_response(error)
    return response.encode(keep_alive), keep_alive
