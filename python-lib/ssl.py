# MicroPython's `ssl` module: SSLContext and the constants come from microloop's native `tls`
# module (rustls); the exception classes TLS failures raise are defined here.
from tls import *
import tls


class SSLError(OSError):
    # MicroPython shows TLS errors as the (code, name) pair mbedTLS gives it.
    def __str__(self):
        if len(self.args) > 1:
            return str(self.args)
        return OSError.__str__(self)


class SSLCertVerificationError(SSLError, ValueError):
    # A certificate that fails verification: a ValueError in MicroPython, an SSLError (and a
    # ValueError) in CPython; the message is mbedTLS's verify text.
    def __str__(self):
        return str(self.args[0]) if self.args else ""
