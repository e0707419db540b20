# objects: the allocation and collection path of ordinary Python code. Each operation builds an
# order: instances of small classes (__init__, methods, properties, a subclass calling
# super()), a list and dicts of them, a pricing rule made by a closure, lines rejected by
# raising and catching an exception (and an empty order by another), a summary string built
# with join, f-strings, str.format and %, and a little tree whose nodes point at their parent
# (reference cycles, left to the collector). Runs for about DURATION seconds; prints orders per
# second, then a checksum of one round's results (the same under every interpreter).
# Usage: objects.py [SECONDS]. Runs unchanged under microloop, CPython 3 and MicroPython.
import sys

from _clock import now, since

DURATION = 2.0
ROUND = 200  # orders between two looks at the clock


SKUS = ("bolt-m3", "nut-m3", "washer", "bracket", "hinge", "spring", "gasket", "rivet", "cable-tie", "fuse-2a", "led-red")
PRICES = (12, 5, 2, 149, 320, 45, 88, 7, 3, 60, 15)
CUSTOMERS = ("acme", "bolton", "cogs & co", "dynamo", "electra", "ferro", "gizmo")


class InvalidLine(ValueError):
    pass


def money(cents):
    return "%d.%02d" % (cents // 100, cents % 100)


class Line:
    def __init__(self, sku, price, qty):
        if qty <= 0:
            raise InvalidLine("quantity %d for %s" % (qty, sku))
        self.sku = sku
        self.price = price
        self.qty = qty

    @property
    def total(self):
        return self.price * self.qty

    def label(self):
        return f"{self.sku} x{self.qty}"


class BulkLine(Line):
    """Ten or more of a part: 5% off."""

    def __init__(self, sku, price, qty):
        super().__init__(sku, price, qty)
        self.bulk = True

    @property
    def total(self):
        full = self.price * self.qty
        return full - full * 5 // 100

    def label(self):
        return Line.label(self) + " (bulk)"


class Order:
    def __init__(self, number, customer):
        self.number = number
        self.customer = customer
        self.lines = []
        self.rejected = {}

    def add(self, sku, price, qty):
        cls = BulkLine if qty >= 10 else Line
        self.lines.append(cls(sku, price, qty))

    @property
    def subtotal(self):
        return sum(line.total for line in self.lines)

    def summary(self, total):
        parts = [line.label() for line in sorted(self.lines, key=lambda line: -line.total)]
        head = "order #{:05d} for {}".format(self.number, self.customer.upper())
        return "%s: %s; %d lines, %s" % (head, ", ".join(parts), len(self.lines), money(total))


def discount(percent):
    def apply(cents):
        return cents - cents * percent // 100

    return apply


def surcharge(cents_extra):
    return lambda cents: cents + cents_extra


RULES = {"a": discount(10), "b": discount(3), "c": surcharge(250), "g": discount(15)}


class Node:
    def __init__(self, parent, value):
        self.parent = parent
        self.children = []
        self.value = value
        if parent is not None:
            parent.children.append(self)

    def depth(self):
        d = 0
        node = self
        while node.parent is not None:
            node = node.parent
            d += 1
        return d


def process(i, stats):
    order = Order(i, CUSTOMERS[i % len(CUSTOMERS)])
    for j in range(6):
        k = (i * 7 + j * 3) % len(SKUS)
        qty = (i + j * 5) % 14 - 2  # -2 to 11: some rejected, some bulk
        try:
            order.add(SKUS[k], PRICES[k], qty)
        except InvalidLine as error:
            order.rejected[j] = str(error)
    if i % 25 == 0:  # withdrawn: the lines go
        del order.lines[:]
    stats["rejected"] = stats.get("rejected", 0) + len(order.rejected)
    try:
        if not order.lines:
            raise LookupError("order %d is empty" % i)
        total = order.subtotal
        rule = RULES.get(order.customer[0])
        if rule is not None:
            total = rule(total)
    except LookupError:
        stats["empty"] = stats.get("empty", 0) + 1
        total = 0
    finally:
        stats["seen"] = stats.get("seen", 0) + 1
    text = order.summary(total)
    by_sku = {}
    for line in order.lines:
        by_sku.setdefault(line.sku, []).append(line.qty)
    root = Node(None, i)
    for line in order.lines:
        leaf = Node(Node(root, line.sku), line.qty)
        stats["depth"] = stats.get("depth", 0) + leaf.depth()
    return len(text) + total + len(by_sku) + len(root.children)


def main():
    duration = float(sys.argv[1]) if len(sys.argv) > 1 else DURATION
    stats = {}
    check = 0
    for i in range(ROUND):  # warm-up, and the check figure
        check += process(i, stats)
    check_stats = "rejected=%d empty=%d depth=%d" % (stats["rejected"], stats.get("empty", 0), stats["depth"])
    done = 0
    start = now()
    while True:
        for i in range(ROUND):
            process(i, stats)
        done += ROUND
        elapsed = since(start)
        if elapsed >= duration:
            break
    print("objects", int(done / elapsed), "orders/s", "check=%d" % check, check_stats)


main()
