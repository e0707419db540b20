# MicroPython's import rules on top of the VM's importers.
#
# - ".frozen" on sys.path stands for the modules built into the binary: a directory listed
#   before it (the script's, "" for the current one) wins over a built-in module of the same
#   name, one listed after it does not. The VM asks its frozen modules before any directory;
#   BeforeFrozen, placed just ahead of them, searches the directories before ".frozen" first
#   (all of sys.path when ".frozen" is not on it), and a package found in a directory has its
#   submodules found there first.
# - The built-in modules MicroPython lets Python code extend (EXTENSIBLE) are found in any
#   directory on sys.path before the built-in one, as a micropython-lib `time.py` extends
#   `time`. While such a file runs, importing an extensible name with sys.path cleared gives
#   the built-in module (`from time import *`, as MicroPython's documentation shows).
# - `u`-prefixed names (`utime`, `ujson`) are always the built-in module.
# - A directory without __init__.py is a package only when no module has its name (CPython's
#   namespace packages; MicroPython takes any directory).
# Submodules are found through their package as usual.
import sys
from _frozen_importlib import FrozenImporter, ModuleSpec
from _frozen_importlib_external import PathFinder

EXTENSIBLE = frozenset(
    (
        "array", "binascii", "collections", "errno", "gzip", "hashlib", "heapq", "io", "json",
        "os", "platform", "random", "re", "select", "socket", "ssl", "struct", "time", "zlib",
        "machine",
    )
)
# Modules that are Python frozen into MicroPython and native in microloop: a file in a
# directory before ".frozen" wins over them, as over any frozen module.
FROZEN_IN_MICROPYTHON = frozenset(("asyncio",))
# The names a `u` prefix reaches: the extensible ones and these.
U_NAMES = EXTENSIBLE | {"asyncio", "sys"}

# The built-in modules of extensible names, once loaded.
_builtins = {}
# Names whose built-in module is being loaded (the finders of directories step aside).
_busy = set()


def builtin(name):
    # The module microloop has built in for `name`, whatever sys.modules holds now.
    mod = _builtins.get(name)
    if mod is not None:
        return mod
    held = sys.modules.get(name)
    if name not in EXTENSIBLE or (held is not None and not isinstance(getattr(held, "__loader__", None), _Extension)):
        # Not extended: the module imported under its name is the built-in one.
        __import__(name)
        mod = sys.modules[name]
        if name in EXTENSIBLE:
            _builtins[name] = mod
        return mod
    # Imported with the finders of directories stepping aside for this name (every
    # extensible name has a built-in module, found before the VM's own search of sys.path),
    # and with sys.modules not holding the extension. What the built-in module imports in
    # turn is found as usual, extensions included.
    held = sys.modules.pop(name, None)
    _busy.add(name)
    try:
        __import__(name)
        mod = sys.modules[name]
    finally:
        _busy.discard(name)
        if held is not None:
            sys.modules[name] = held
    if name in EXTENSIBLE:
        _builtins[name] = mod
    return mod


class _Given:
    # Loads a module object made already: the import system makes a blank module, which this
    # replaces in sys.modules (where the import takes its result from), leaving the module's
    # own name and attributes as they are.
    def __init__(self, mod):
        self.mod = mod

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        sys.modules[module.__name__] = self.mod


class _Extension:
    # Runs a file that extends a built-in module (see the top of this file).
    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        name = module.__name__
        base = builtin(name)
        # While the file runs, importing an extensible name with sys.path empty gives the
        # built-in module, as MicroPython does; any other import of the name gives the file's
        # module, not finished yet, as MicroPython's does. Only for that while: the import
        # hook costs every import a call.
        import builtins

        vm_import = builtins.__import__

        def import_(iname, globals=None, locals=None, fromlist=(), level=0):
            if level == 0 and not sys.path and iname in EXTENSIBLE:
                return builtin(iname)
            return vm_import(iname, globals, locals, fromlist, level)

        builtins.__import__ = import_
        try:
            self.loader.exec_module(module)
        finally:
            builtins.__import__ = vm_import
        # What the file did not define it takes from the built-in module, as the wildcard
        # import MicroPython's documentation shows would have given it, and beyond: the
        # standard library's own modules, Python here, use private names and submodules too
        # (random needs os.urandom, json collections.abc), whatever the extension imported.
        own = module.__dict__
        for key, value in list(base.__dict__.items()):
            if key not in own and not (key.startswith("__") and key.endswith("__")):
                own[key] = value


class Extensible:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if path is not None:
            return None
        if name in FROZEN_IN_MICROPYTHON:
            return BeforeFrozen.find_spec(name, None, target)
        if name[:1] == "u" and name[1:] in U_NAMES and name not in _busy:
            return ModuleSpec(name, _Given(builtin(name[1:])))
        if name not in EXTENSIBLE or name in _busy:
            return None
        if name in _builtins:
            # Loaded before and dropped from sys.modules (see install).
            found = _search(name, target)
            return found or ModuleSpec(name, _Given(_builtins[name]))
        return _search(name, target)

    @staticmethod
    def invalidate_caches():
        pass


def _search(name, target):
    entries = [entry for entry in sys.path if entry != ".frozen"]
    spec = PathFinder.find_spec(name, entries, target) if entries else None
    if spec is None or spec.loader is None:
        return None
    spec.loader = _Extension(spec.loader)
    return spec


class BeforeFrozen:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if path is not None:
            # A submodule: a package from a directory has its submodules there, ahead of a
            # built-in package's of the same names (a built-in package's path is empty).
            return PathFinder.find_spec(name, path, target) if path else None
        if name in _busy:
            return None
        entries = []
        for entry in sys.path:
            if entry == ".frozen":
                break
            entries.append(entry)
        if not entries:
            return None
        spec = PathFinder.find_spec(name, entries, target)
        # A directory without __init__.py (a data directory named `logging`) does not hide a
        # built-in module, as a namespace package never hides a module in CPython.
        if spec is None or spec.loader is None:
            return None
        return spec

    @staticmethod
    def invalidate_caches():
        pass


def install():
    meta = sys.meta_path
    meta.insert(0, Extensible)
    for i, finder in enumerate(meta):
        if finder is FrozenImporter:
            meta.insert(i, BeforeFrozen)
            break
    else:
        meta.append(BeforeFrozen)
    # Extensible modules the runtime imported while it started (time) are found again on
    # their next import, so that a file can extend them.
    for name in EXTENSIBLE:
        mod = sys.modules.pop(name, None)
        if mod is not None:
            _builtins[name] = mod
