"""What ships stays apart from what develops it: no module of `intacct_assignar` (the package every Lambda layer
carries) imports `intacct_assignar_dev` (the emulators, the local stack, the demo), by name or by the old names
the emulators, `system_demo` and `local_aws` had inside the product.

Two checks, each shown to catch a leak by its own negative control: the source of every module, read without
running it; and a fresh interpreter that imports every module and then looks for the development package."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
PRODUCT = "intacct_assignar"
DEV = "intacct_assignar_dev"
# Where these lived before they moved to the development package; a relative import of one would now fail only
# when it runs, which for a lazy import may be never in the tests.
FORMER = tuple(f"{PRODUCT}.{name}" for name in ("emulators", "system_demo", "local_aws"))


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(f"{package}.")


def development_imports(source: str, module: str, *, is_package: bool = False) -> list[str]:
    """The development modules `source` (the module named `module`) imports, absolute or relative, at its top or
    inside a function, with `import`, `from ... import` or `importlib.import_module("...")`."""
    package = module if is_package else module.rpartition(".")[0]
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            # `from x import y` may name the module x.y: `from . import emulators` is as bad as `import` of it.
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Call):
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            first = node.args[0] if node.args else None
            if called in ("import_module", "__import__") and isinstance(first, ast.Constant):
                names = [str(first.value)]
        found += [name for name in names if _within(name, DEV) or any(_within(name, old) for old in FORMER)]
    return found


def product_modules() -> list[tuple[str, Path, bool]]:
    root = SHARED / PRODUCT
    modules = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(SHARED).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        modules.append((".".join(parts[:-1] if is_package else parts), path, is_package))
    return modules


def test_no_product_module_names_the_development_package() -> None:
    # Given every module of the shipped package
    modules = product_modules()
    assert len(modules) > 20 and any(name == f"{PRODUCT}.cli" for name, _, _ in modules)
    # When each one's imports are read
    leaks = {
        name: imports
        for name, path, is_package in modules
        if (imports := development_imports(path.read_text(encoding="utf-8"), name, is_package=is_package))
    }
    # Then none reaches the development package
    assert leaks == {}


@pytest.mark.parametrize(
    ("source", "module", "is_package"),
    [
        ("import intacct_assignar_dev", "intacct_assignar.cli", False),
        ("from intacct_assignar_dev.emulators.http import FaultPlan", "intacct_assignar.cli", False),
        ("def later():\n    from intacct_assignar_dev import system_demo", "intacct_assignar.cli", False),
        ("from .emulators.intacct import IntacctStore", "intacct_assignar.cli", False),
        ("from . import system_demo", "intacct_assignar.cli", False),
        ("from ..local_aws import LocalStack", "intacct_assignar.outbound.push", False),
        ("from .emulators import assignar", "intacct_assignar", True),
        ("import intacct_assignar.emulators.assignar", "intacct_assignar.runtime", False),
        ("import importlib\nimportlib.import_module('intacct_assignar_dev.commands')", "intacct_assignar.cli", False),
    ],
)
def test_negative_control_each_way_of_importing_the_development_package_is_caught(
    source: str, module: str, is_package: bool
) -> None:
    assert development_imports(source, module, is_package=is_package) != []


def test_negative_control_the_product_s_own_imports_pass() -> None:
    source = textwrap.dedent(
        """
        from . import observability
        from .intacct import IntacctClient
        from ..state import open_state
        from intacct_assignar.config import TenantConfig
        import intacct_assignar.runtime
        """
    )
    assert development_imports(source, "intacct_assignar.outbound.push") == []


# Imports every module of a package in a fresh interpreter and prints which development modules that loaded.
IMPORT_EVERYTHING = textwrap.dedent(
    """
    import importlib, json, pkgutil, sys

    package = importlib.import_module(sys.argv[1])
    imported = [package.__name__]
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(module.name)
        imported.append(module.name)
    loaded = sorted(name for name in sys.modules if name == sys.argv[2] or name.startswith(sys.argv[2] + "."))
    print(json.dumps({"file": package.__file__, "imported": imported, "development": loaded}))
    """
)


def import_everything(package: str, *path: Path) -> dict[str, list[str] | str]:
    environment = os.environ | {"PYTHONPATH": os.pathsep.join(str(each) for each in (*path, SHARED))}
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", IMPORT_EVERYTHING, package, DEV],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, list[str] | str] = json.loads(done.stdout)
    return answer


def test_importing_every_product_module_loads_nothing_of_the_development_package() -> None:
    # When a fresh interpreter imports every module of the shipped package (this checkout's)
    answer = import_everything(PRODUCT)
    # Then it imported them all, and no development module came with them
    assert Path(str(answer["file"])).is_relative_to(SHARED / PRODUCT)
    assert {name for name, _, _ in product_modules()} <= set(answer["imported"])
    assert answer["development"] == []


def test_negative_control_a_module_that_imports_the_development_package_is_caught(tmp_path: Path) -> None:
    # Given a package one of whose modules imports an emulator (the development package is importable, as here)
    leaky = tmp_path / "leaky_product"
    (leaky / "outbound").mkdir(parents=True)
    (leaky / "__init__.py").write_text("")
    (leaky / "outbound" / "__init__.py").write_text("")
    (leaky / "outbound" / "push.py").write_text("from intacct_assignar_dev.emulators.http import FaultPlan\n")
    # When every module of it is imported
    answer = import_everything("leaky_product", tmp_path)
    # Then the development package is seen loaded
    assert f"{DEV}.emulators.http" in answer["development"]
