# Imports the modules a host gave as source text (RuntimeBuilder::module).
# The host's sources sit in a dict of name -> text; this finder sits first on sys.meta_path,
# so a host module wins over a file of the same name, as a frozen module does on a board.
import sys


class HostSources:
    def __init__(self, sources):
        self.sources = sources

    def _is_package(self, name):
        prefix = name + "."
        for other in self.sources:
            if other.startswith(prefix):
                return True
        return False

    def find_spec(self, name, path=None, target=None):
        if name not in self.sources:
            return None
        from importlib.machinery import ModuleSpec

        package = self._is_package(name)
        spec = ModuleSpec(name, self, is_package=package)
        rel = name.replace(".", "/")
        spec.origin = rel + "/__init__.py" if package else rel + ".py"
        return spec

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        spec = module.__spec__
        module.__file__ = spec.origin
        code = compile(self.sources[spec.name], spec.origin, "exec")
        exec(code, module.__dict__)


def install(sources):
    sys.meta_path.insert(0, HostSources(sources))
