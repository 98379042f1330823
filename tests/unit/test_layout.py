"""The layout the architecture promises, read from the source (AST, nothing imported): outbound and inbound are
two domains that share only what lives beside them, and the Lambda handlers stay thin."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "shared" / "intacct_assignar"
FUNCTIONS = ROOT / "functions"


def imported_modules(path: Path, package: str) -> set[str]:
    """Every module `path` imports, absolute (`from ..inbound import x` in outbound/ reads intacct_assignar.inbound)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def package_of(path: Path) -> str:
    """The package a module of shared/ sits in (outbound/push.py: intacct_assignar.outbound)."""
    return ".".join(path.parent.relative_to(PACKAGE.parent).parts)


def test_the_scan_sees_relative_and_absolute_imports(tmp_path: Path) -> None:
    # A check that cannot fail proves nothing: the scan must see every way of importing inbound
    source = tmp_path / "m.py"
    for line in (
        "from ..inbound.consume import Parking",
        "from .. import inbound",
        "from intacct_assignar.inbound import messages",
        "import intacct_assignar.inbound.messages",
    ):
        source.write_text(line + "\n")
        assert any(_is_inbound(m) for m in imported_modules(source, "intacct_assignar.outbound")), line


def _is_inbound(module: str) -> bool:
    return module == "intacct_assignar.inbound" or module.startswith("intacct_assignar.inbound.")


def test_outbound_imports_nothing_from_inbound() -> None:
    modules = sorted((PACKAGE / "outbound").rglob("*.py"))
    assert modules
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(m for m in imported_modules(path, package_of(path)) if _is_inbound(m))
        for path in modules
    }
    assert {path: found for path, found in offenders.items() if found} == {}


def test_handlers_read_settings_only_through_function_settings_and_call_no_aws_sdk() -> None:
    handlers = sorted(FUNCTIONS.glob("*/app.py"))
    assert len(handlers) == 7
    for path in handlers:
        tree = ast.parse(path.read_text(), str(path))
        names = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
        assert not names & {"environ", "getenv"}, f"{path.parent.name} reads the environment itself"
        modules = imported_modules(path, "functions")
        assert not {m for m in modules if m.split(".")[0] in {"os", "boto3", "botocore"}}, path.parent.name
