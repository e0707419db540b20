# MicroPython name for `json`: importing it gives the very same module.
import sys
import json

sys.modules[__name__] = json
