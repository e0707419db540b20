# bytes take str where MicroPython's do: %-formatting encodes str arguments as UTF-8,
# bytes.format formats the bytes' text, and text streams take bytes.
import sys

print(b"%s %s HTTP/1.0" % ("GET", "/index.html"))
print(b"%s=%d;" % ("n", 5))
print(b"%s" % "héllo")
print(b"%s|%s" % (b"raw", "str"))
print(b"{} {}".format(1, "two"))
print(b"{0}-{0}".format("x"))
print(b"{:>5}|".format(42))
print(b"{name}!".format(name="k"))
print(b"plain".format())
n = sys.stdout.write(b"bytes to stdout\n")
print(n)
print(sys.stdout.write(bytearray(b"bytearray too\n")))
sys.stdout.write("text ")
sys.stdout.write(b"then bytes ")
sys.stdout.write("then text\n")
try:
    sys.stdout.write(5)
except TypeError as e:
    print("TypeError", e)
