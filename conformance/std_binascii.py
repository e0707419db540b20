# binascii hexlify/unhexlify, base64 and crc32.
import binascii

print(binascii.hexlify(b"\x00\x01\xab\xff"))
print(binascii.unhexlify(b"0001abff"), binascii.unhexlify("4142"))
print(binascii.b2a_base64(b"hello world"))
print(binascii.a2b_base64(b"aGVsbG8gd29ybGQ="))
print(binascii.b2a_base64(b""), binascii.b2a_base64(b"a"))
print(binascii.crc32(b"hello"), binascii.crc32(b""), binascii.crc32(b"world", binascii.crc32(b"hello ")))
print(binascii.crc32(b"hello world") == binascii.crc32(b"world", binascii.crc32(b"hello ")))
try:
    binascii.unhexlify(b"abc")
    print("odd length accepted?")
except ValueError as e:
    print("odd length:", isinstance(e, ValueError))
print("done")
