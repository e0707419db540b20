# struct pack/unpack/calcsize with explicit byte order (no native padding).
import struct

b = struct.pack("<HhI", 0x1234, -2, 0xDEADBEEF)
print(b, len(b))
print(struct.unpack("<HhI", b))
print(struct.pack(">I", 1), struct.pack("<I", 1))
print(struct.calcsize("<bBhHiIqQ"), struct.calcsize("<fd"), struct.calcsize("<3s"))
print(struct.unpack(">bB", b"\xff\xff"))
print(struct.pack("<q", -1), struct.unpack("<Q", b"\xff" * 8))
print(struct.pack("<f", 1.5), struct.unpack("<d", struct.pack("<d", 0.25)))
print(struct.pack("<5s", b"ab"), struct.unpack("<2s", b"xy"))
print(struct.pack("<2H", 1, 2), struct.unpack_from("<H", b"\x00\x01\x02", 1))
buf = bytearray(6)
struct.pack_into("<HI", buf, 0, 7, 9)
print(buf)
print(struct.pack(">H", 258), struct.pack(">B", 1))
print("done")
