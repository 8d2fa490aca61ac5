"""Package exports that load their module on first use, so that starting the server imports only what it needs.

A package writes its exports once, as ordinary imports under `if TYPE_CHECKING:` (what type checkers and readers
see) and its `__all__`, and ends with `__getattr__ = lazy_exports(__name__, __file__)`. At run time those imports are
read from the package's source instead of executed: the first use of a name imports its module and keeps the
value in the package, so later lookups are plain attribute reads.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable
from pathlib import Path

__all__ = ["lazy_exports"]


def lazy_exports(package: str, init_file: str) -> Callable[[str], object]:
    """The package's `__getattr__`, from the imports in its `if TYPE_CHECKING:` block."""
    module_of = _declared_exports(Path(init_file).read_text(encoding="utf-8"))
    # Importing `package.name` sets the attribute `name` to the module, and `__getattr__` never sees it again.
    shadowed = sorted(name for name, (module, _) in module_of.items() if module == f"{package}.{name}")
    assert not shadowed, f"{package} exports {shadowed}, named like the submodules they come from"

    def __getattr__(name: str) -> object:
        if name not in module_of:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, original = module_of[name]
        # `__import__`, not `importlib.import_module`: the import statement's own path, which `-X importtime` logs.
        value = getattr(__import__(module, fromlist=[original]), original)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__


def _declared_exports(source: str) -> dict[str, tuple[str, str]]:
    """Exported name -> (module, its name there), for each `from module import name` under `if TYPE_CHECKING:`."""
    exports: dict[str, tuple[str, str]] = {}
    for block in ast.parse(source).body:
        if isinstance(block, ast.If) and isinstance(block.test, ast.Name) and block.test.id == "TYPE_CHECKING":
            for statement in block.body:
                if isinstance(statement, ast.ImportFrom) and statement.module and statement.level == 0:
                    exports |= {alias.asname or alias.name: (statement.module, alias.name) for alias in statement.names}
    return exports
