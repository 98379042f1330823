"""What a package offers, imported from its modules only when first asked for (PEP 562).

A Lambda cold start pays for every module imported. Importing one light module of a package (the Assignar
webhook's event names, the state store's errors) runs the package's `__init__` first, so an `__init__` that imported
its client would load httpx or boto3 into every function that touches the package. The packages list their names
twice: once in an `if TYPE_CHECKING:` block, for mypy and readers, and once for `lazy_exports`; a test checks that
every name a package offers resolves.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def lazy_exports(namespace: dict[str, Any], modules: Mapping[str, Iterable[str]]) -> Callable[[str], Any]:
    """A module `__getattr__` for the package whose `globals()` is `namespace`.

    `modules` maps each relative module name (".client") to the names the package takes from it. A name is imported
    the first time it is asked for and then kept in the package, so Python finds it without this function again.
    """
    package = namespace["__name__"]
    where = {name: module for module, names in modules.items() for name in names}

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        namespace[name] = value
        return value

    return __getattr__
