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


def wrap_socket(
    sock,
    server_side=False,
    key=None,
    cert=None,
    cert_reqs=CERT_NONE,
    cadata=None,
    server_hostname=None,
    do_handshake=True,
):
    # MicroPython's one-call form: a context made for this socket alone. Unlike an
    # SSLContext, it verifies nothing unless cert_reqs asks for it.
    ctx = SSLContext(PROTOCOL_TLS_SERVER if server_side else PROTOCOL_TLS_CLIENT)
    if cert is not None or key is not None:
        ctx.load_cert_chain(cert, key)
    if cadata is not None:
        ctx.load_verify_locations(cadata=cadata)
    ctx.verify_mode = cert_reqs
    if cert_reqs == CERT_NONE:
        ctx.check_hostname = False
    return ctx.wrap_socket(
        sock, server_side=server_side, do_handshake_on_connect=do_handshake, server_hostname=server_hostname
    )
