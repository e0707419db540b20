# errno constants (Linux values) and errorcode lookup; OSError carries the
# number in args[0].
import errno

print(errno.ENOENT, errno.EAGAIN, errno.EINVAL, errno.EEXIST, errno.ETIMEDOUT, errno.EINPROGRESS)
print(errno.errorcode[errno.ENOENT], errno.errorcode[errno.EAGAIN])
try:
    raise OSError(errno.ETIMEDOUT)
except OSError as e:
    print(e.args[0] == errno.ETIMEDOUT, type(e.args[0]).__name__)
print("done")
