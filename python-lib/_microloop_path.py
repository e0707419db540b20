# MicroPython's import order on sys.path: the entry ".frozen" stands for the modules built
# into the binary, so a directory listed before it (the script's, "" for the current one)
# wins over a built-in module of the same name, and one listed after it does not. The VM
# asks its frozen modules before any directory; this finder, placed just ahead of them on
# sys.meta_path, searches the directories before ".frozen" first (all of sys.path when
# ".frozen" is not on it). Submodules are found through their package as usual.
import sys
from _frozen_importlib_external import PathFinder


class BeforeFrozen:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if path is not None:
            return None
        entries = []
        for entry in sys.path:
            if entry == ".frozen":
                break
            entries.append(entry)
        if not entries:
            return None
        return PathFinder.find_spec(name, entries, target)

    @staticmethod
    def invalidate_caches():
        pass


def install():
    meta = sys.meta_path
    for i, finder in enumerate(meta):
        if getattr(finder, "__name__", "") == "FrozenImporter":
            meta.insert(i, BeforeFrozen)
            return
    meta.append(BeforeFrozen)
