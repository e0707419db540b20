# MicroPython's BytesIO takes a str, written as its UTF-8 bytes.
import io

b = io.BytesIO()
print(b.write("ab"), b.write(b"cd"), b.write("\u00e9"), b.write(bytearray(b"!")))
print(b.getvalue())
