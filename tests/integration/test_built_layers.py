"""The Lambda layers as scripts/build_layers.py builds them: every handler imports from them on a clean python3.12.

This is the check `sam build` + a deploy would otherwise be the first to make: that the dependencies layer holds
everything the handlers import (boto3 aside: the python3.12 runtime provides it), that the shared layer is
importable as laid out, and that both fit Lambda's unzipped size quota. It needs the package registry (pip)
and a python3.12 interpreter, the Lambda runtime's version.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

# pip downloads and installs three times per session (arm64 and x86_64 layers, boto3): allow for a slow registry.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPO_ROOT / "scripts" / "build_layers.py"
FUNCTIONS_DIR = REPO_ROOT / "functions"
KNOWN_FUNCTIONS = {"sync_puller", "sync_consumer", "webhook_receiver", "push_consumer", "timesheet_sweep"}
# Discovered, not listed, so a new handler is covered as soon as its folder exists.
FUNCTIONS = sorted(path.parent.name for path in FUNCTIONS_DIR.glob("*/app.py"))

# Lambda's quota is 250 MiB unzipped for a function and all its layers; build_layers.py keeps 5 MiB of it for
# the functions' own code. Written out here so loosening the script's constant fails this test.
LAYERS_LIMIT_BYTES = (250 - 5) * 1024 * 1024

PIP_TIMEOUT_S = 600
IMPORT_TIMEOUT_S = 120

# What a deployed function's environment holds that import-time code may read (template Globals + Lambda's own).
DEPLOYED_ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "TENANT_ID": "acme",
    "STATE_TABLE": "acme-state",
    "POWERTOOLS_SERVICE_NAME": "intacct-assignar",
    "IDEMPOTENCY_TABLE": "acme-idem",
    "LANG": "en_US.UTF-8",
    "TZ": ":UTC",
    "PATH": "/usr/local/bin:/usr/bin:/bin",
}

# Run by the clean python3.12 in the function's stead. argv: the sys.path entries Lambda would give it (function
# folder, /opt/python of each layer, the runtime's boto3). Prints where the key modules came from and any module
# loaded from outside those folders and the standard library, so a leak from the interpreter's own packages shows.
IMPORT_PROGRAM = """
import json, sys, sysconfig
paths = sys.argv[1:]
sys.path[:0] = paths
import app
assert callable(app.lambda_handler), "app.lambda_handler is not callable"
stdlib = (sysconfig.get_path("stdlib"), sysconfig.get_path("platstdlib"))
site = (sysconfig.get_path("purelib"), sysconfig.get_path("platlib"))
strays = sorted(
    f for f in (getattr(m, "__file__", None) for m in list(sys.modules.values()))
    if f and (f.startswith(site) or not f.startswith(tuple(paths) + stdlib))
)
origins = {
    name: sys.modules[name].__file__
    for name in ("intacct_assignar", "aws_lambda_powertools", "pydantic", "pydantic_core", "boto3")
    if name in sys.modules
}
print(json.dumps({"version": list(sys.version_info[:2]), "origins": origins, "strays": strays}))
"""


def _find_python312() -> str | None:
    """The first interpreter that really runs as 3.12 (pyenv's shim answers to the name but may not run)."""
    candidates = [str(path) for path in sorted(Path.home().glob(".pyenv/versions/3.12*/bin/python3.12"))]
    on_path = shutil.which("python3.12")
    if on_path:
        candidates.append(on_path)
    for candidate in candidates:
        try:
            probe = subprocess.run(  # noqa: S603  # fixed argument list, no shell
                [candidate, "-c", "import sys; sys.exit(sys.version_info[:2] != (3, 12))"],
                capture_output=True,
                timeout=30,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0:
            return candidate
    return None


def _run(command: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)  # noqa: S603
    assert result.returncode == 0, f"{command} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result


def _build(arch: str, out: Path) -> dict[str, Any]:
    result = _run([sys.executable, str(BUILD_SCRIPT), "--arch", arch, "--out", str(out)], PIP_TIMEOUT_S)
    print(result.stdout, end="")
    report: dict[str, Any] = json.loads((out / arch / "sizes.json").read_text())
    return report


@pytest.fixture(scope="session")
def python312() -> str:
    found = _find_python312()
    if found is None:
        reason = "python3.12 (the Lambda runtime's Python) not found under ~/.pyenv/versions/3.12* or on PATH"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must provide it to check the handlers against the built layers")
        pytest.skip(reason)
    return found


@pytest.fixture(scope="session")
def layers_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("layers")


@pytest.fixture(scope="session")
def x86_64_layers(layers_out: Path) -> dict[str, Any]:
    # x86_64, not the deployed arm64: this machine is x86_64 and the import has to load compiled extensions
    # (pydantic_core), which an aarch64 .so cannot do here.
    return _build("x86_64", layers_out)


@pytest.fixture(scope="session")
def arm64_layers(layers_out: Path) -> dict[str, Any]:
    return _build("arm64", layers_out)


@pytest.fixture(scope="session")
def runtime_boto3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """boto3 and botocore as the python3.12 runtime provides them (they are deliberately not in the layer)."""
    target = tmp_path_factory.mktemp("runtime-boto3")
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-compile",
            "--no-warn-conflicts",
            "--target",
            str(target),
            "--platform",
            "manylinux2014_x86_64",
            "--implementation",
            "cp",
            "--python-version",
            "3.12",
            "--only-binary=:all:",
            "boto3",
        ],
        PIP_TIMEOUT_S,
    )
    return target


def _layer_dirs(out: Path, arch: str) -> tuple[Path, Path]:
    return out / arch / "dependencies" / "python", out / arch / "shared" / "python"


def test_the_known_handlers_are_discovered() -> None:
    assert set(FUNCTIONS) >= KNOWN_FUNCTIONS, f"functions/ has {FUNCTIONS}, expected at least {sorted(KNOWN_FUNCTIONS)}"


def test_the_arm64_build_targets_lambdas_architecture_and_fits_the_quota(
    arm64_layers: dict[str, Any], layers_out: Path
) -> None:
    dependencies, shared = _layer_dirs(layers_out, "arm64")
    assert (dependencies / "pydantic_core" / "_pydantic_core.cpython-312-aarch64-linux-gnu.so").is_file()
    assert not list(dependencies.glob("**/*x86_64-linux-gnu.so")), "an x86_64 extension in the arm64 layer"
    assert (shared / "intacct_assignar" / "runtime.py").is_file()
    assert arm64_layers["limit_bytes"] == LAYERS_LIMIT_BYTES
    assert arm64_layers["within_limit"]
    assert arm64_layers["total"]["bytes"] <= LAYERS_LIMIT_BYTES
    for name, size in arm64_layers["layers"].items():
        print(f"arm64 {name}: {size['mb']} MB, {size['files']} files")
    print(f"arm64 total: {arm64_layers['total']['mb']} MB (limit {LAYERS_LIMIT_BYTES / 1024 / 1024:.0f} MB)")


def test_the_layers_hold_no_bytecode_or_emulators(x86_64_layers: dict[str, Any], layers_out: Path) -> None:
    dependencies, shared = _layer_dirs(layers_out, "x86_64")
    assert not list(dependencies.glob("**/__pycache__"))
    assert not list(shared.glob("**/__pycache__"))
    assert not (shared / "intacct_assignar" / "emulators").exists()
    assert x86_64_layers["within_limit"]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_the_handler_imports_from_the_built_layers_on_python312(
    function: str,
    python312: str,
    x86_64_layers: dict[str, Any],
    layers_out: Path,
    runtime_boto3: Path,
    tmp_path: Path,
) -> None:
    dependencies, shared = _layer_dirs(layers_out, "x86_64")
    paths = [str(FUNCTIONS_DIR / function), str(dependencies), str(shared), str(runtime_boto3)]
    result = subprocess.run(  # noqa: S603  # fixed argument list, no shell
        # -I: no user site-packages, no PYTHON* variables, no script folder or cwd on sys.path. -S: not even the
        # interpreter's own site-packages, so only the paths handed over (and the standard library) can be imported.
        [python312, "-I", "-S", "-c", IMPORT_PROGRAM, *paths],
        # A fresh environment, as Lambda's: nothing of this process's (PYTHONPATH, AWS_*) leaks in. HOME points
        # at an empty folder so no ~/.aws configuration is read.
        env={**DEPLOYED_ENV, "HOME": str(tmp_path)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=IMPORT_TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 0, f"functions/{function}/app.py did not import:\n{result.stderr}"
    report = json.loads(result.stdout)
    assert report["version"] == [3, 12]
    assert report["strays"] == [], f"modules loaded from outside the layers and the standard library: {report}"
    origins = report["origins"]
    assert origins["intacct_assignar"].startswith(str(shared))
    assert origins["aws_lambda_powertools"].startswith(str(dependencies))
    assert origins["pydantic_core"].startswith(str(dependencies))
