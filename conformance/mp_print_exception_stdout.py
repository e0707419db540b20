# sys.print_exception(exc) writes to sys.stdout by default. An exception
# that was never raised has no traceback, so only "Type: message" is
# printed. With no args the line is the type name, a colon and a space
# (shown through repr of a StringIO capture so no line ends in a space).
import io
import sys

sys.print_exception(ValueError("boom"))
sys.print_exception(RuntimeError("two", "args"))
sys.print_exception(TypeError("explicit stdout"), sys.stdout)
buf = io.StringIO()
sys.print_exception(KeyError(), buf)
print(repr(buf.getvalue()))
print("done")
