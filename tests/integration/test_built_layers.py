"""What `sam build` makes is what these tests check: the layers hold only what the functions run, with bytecode
compiled for the runtime, they fit Lambda's unzipped size quota, and every handler imports from them on a clean
python3.12.

`sam build` runs here as a deploy runs it, without Docker (both layers are `BuildMethod: makefile`:
layers/dependencies/Makefile and shared/Makefile), into a temporary folder. That arm64 build is what deploys. This
machine cannot load its compiled extensions (pydantic_core for aarch64), so the import check takes the functions and
the shared layer from it and the dependencies layer from the same make target run for x86_64 (LAMBDA_ARCH), which
must install the same distributions. Needs the package registry (pip) and a python3.12 interpreter, the Lambda
runtime's version.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from samtranslator.yaml_helper import yaml_parse

from tests.deployed import FUNCTION_ENV, LAMBDA_ENV

# pip downloads three times per session (the arm64 and x86_64 dependencies layers, the runtime's boto3): allow for
# a slow registry.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = REPO_ROOT / "template.yaml"
DEPENDENCIES_MAKEFILE = REPO_ROOT / "layers" / "dependencies" / "Makefile"
LAYER_REQUIREMENTS = REPO_ROOT / "layers" / "dependencies" / "requirements.txt"
FUNCTIONS_DIR = REPO_ROOT / "functions"
KNOWN_FUNCTIONS = {"sync_puller", "sync_consumer", "webhook_receiver", "push_consumer", "timesheet_sweep"}
# Discovered, not listed, so a new handler is covered as soon as its folder exists.
FUNCTIONS = sorted(path.parent.name for path in FUNCTIONS_DIR.glob("*/app.py"))

# Lambda quota "Deployment package (.zip file archive) size: 250 MB (unzipped)", for a function's code and all of
# its layers together (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html); the API enforces
# it as 262144000 bytes, i.e. 250 MiB. The two layers alone keep 5 MiB of it free for the functions' own code.
MIB = 1024 * 1024
LAMBDA_UNZIPPED_LIMIT_BYTES = 250 * MIB
LAYERS_LIMIT_BYTES = LAMBDA_UNZIPPED_LIMIT_BYTES - 5 * MIB

# What only the demo, the CLI or the tests use: none of it may reach a deployed function.
DEV_MODULES = {"intacct_assignar_dev", "emulators", "local_aws.py", "system_demo.py", "cli.py"}
DEV_DISTRIBUTIONS = {
    "moto",
    "pytest",
    "mypy",
    "ruff",
    "hypothesis",
    "aws_sam_translator",
    "aws_sam_cli",
    "cfn_lint",
    "uv",
    # The runtime provides boto3; only the CLI uses typer and rich.
    "boto3",
    "botocore",
    "typer",
    "rich",
}

BUILD_TIMEOUT_S = 600
IMPORT_TIMEOUT_S = 120

# What a deployed function's environment holds that import-time code may read (tests/deployed.py).
DEPLOYED_ENV = {**FUNCTION_ENV, **LAMBDA_ENV}

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


@dataclass(frozen=True)
class SamBuild:
    """The folder `sam build` wrote, and each function's logical id by its folder under functions/."""

    root: Path
    functions: dict[str, str]

    @property
    def dependencies(self) -> Path:
        return self.root / "DependenciesLayer" / "python"

    @property
    def shared(self) -> Path:
        return self.root / "SharedLayer" / "python"

    def function(self, folder: str) -> Path:
        return self.root / self.functions[folder]


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


def _build_env(python312: str) -> dict[str, str]:
    # The layer Makefiles run pip on LAYER_PYTHON. make's own variables from an outer `make integration ...`
    # (MAKEFLAGS) would reach them through sam too: a build is the same whoever starts it.
    env = {key: value for key, value in os.environ.items() if key not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}}
    return {**env, "LAYER_PYTHON": python312, "SAM_CLI_TELEMETRY": "0"}


def _run(command: list[str], cwd: Path, env: dict[str, str], timeout: float) -> None:
    result = subprocess.run(  # noqa: S603  # fixed argument list, no shell
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"{command} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"


def _size(root: Path) -> int:
    """Unzipped size as Lambda counts it: the sum of the regular files' sizes (symlinks not followed)."""
    return sum(path.stat().st_size for path in root.rglob("*") if path.is_file() and not path.is_symlink())


def _distributions(layer: Path) -> set[tuple[str, str]]:
    """(normalized name, version) of every distribution installed in a layer, from its .dist-info folders."""
    found = set()
    for info in layer.glob("*.dist-info"):
        name, version = info.name.removesuffix(".dist-info").rsplit("-", 1)
        found.add((re.sub(r"[-_.]+", "_", name).lower(), version))
    return found


def _requirements() -> Iterator[tuple[str, str, str]]:
    """(normalized name, version, environment marker) of every requirement in the layer's requirements.txt."""
    for line in LAYER_REQUIREMENTS.read_text().splitlines():
        if match := re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)\s*(?:;\s*([^\\]*))?", line):
            name, version, marker = match.groups()
            yield re.sub(r"[-_.]+", "_", name).lower(), version, (marker or "").strip()


@pytest.fixture(scope="session")
def python312() -> str:
    found = _find_python312()
    if found is None:
        reason = "python3.12 (the Lambda runtime's Python) not found under ~/.pyenv/versions/3.12* or on PATH"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must provide it to build the layers and check the handlers against them")
        pytest.skip(reason)
    return found


@pytest.fixture(scope="session")
def sam_build(python312: str, tmp_path_factory: pytest.TempPathFactory) -> SamBuild:
    """`sam build` of template.yaml with samconfig.toml's settings, as a deploy runs it, into a temporary folder."""
    work = tmp_path_factory.mktemp("sam-build")
    sam = Path(sys.executable).parent / "sam"
    command = [str(sam), "build", "--template", str(TEMPLATE), "--build-dir", str(work / "build")]
    # A cache of its own (samconfig.toml turns caching on), so an earlier build in the repository is not reused.
    # Run from the temporary folder: sam writes its scratch folders under the working directory.
    _run([*command, "--cache-dir", str(work / "cache")], work, _build_env(python312), BUILD_TIMEOUT_S)
    template = yaml_parse(TEMPLATE.read_text())
    functions = {
        Path(resource["Properties"]["CodeUri"]).name: name
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    return SamBuild(root=work / "build", functions=functions)


@pytest.fixture(scope="session")
def x86_64_dependencies(python312: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The dependencies layer by the make target `sam build` runs, for this machine's architecture."""
    artifacts = tmp_path_factory.mktemp("dependencies-x86_64")
    command = ["make", "--makefile", str(DEPENDENCIES_MAKEFILE), "build-DependenciesLayer"]
    _run(
        [*command, f"ARTIFACTS_DIR={artifacts}", "LAMBDA_ARCH=x86_64"],
        artifacts,
        _build_env(python312),
        BUILD_TIMEOUT_S,
    )
    return artifacts / "python"


@pytest.fixture(scope="session")
def runtime_boto3(python312: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """boto3 and botocore as the python3.12 runtime provides them (they are deliberately not in the layer)."""
    target = tmp_path_factory.mktemp("runtime-boto3")
    pip = [python312, "-m", "pip", "install", "--quiet", "--no-compile", "--no-warn-conflicts"]
    platform = ["--platform", "manylinux2014_x86_64", "--implementation", "cp", "--python-version", "3.12"]
    _run(
        [*pip, *platform, "--only-binary=:all:", "--target", str(target), "boto3"],
        target,
        _build_env(python312),
        BUILD_TIMEOUT_S,
    )
    return target


def test_the_known_handlers_are_discovered() -> None:
    assert set(FUNCTIONS) >= KNOWN_FUNCTIONS, f"functions/ has {FUNCTIONS}, expected at least {sorted(KNOWN_FUNCTIONS)}"


def test_the_layer_requirements_are_pinned_hashed_and_the_same_on_every_machine() -> None:
    requirements = list(_requirements())
    text = LAYER_REQUIREMENTS.read_text()
    assert requirements, "layers/dependencies/requirements.txt names no package"
    assert text.count("--hash=sha256:") >= len(requirements)
    # pip reads environment markers for the interpreter running it, not for --platform: one that names the
    # platform would be decided by the build machine. python_version markers are safe (the build runs on 3.12).
    for name, _, marker in requirements:
        assert not re.search(r"platform|sys_platform|os_name|implementation", marker), (name, marker)
    assert not {name for name, _, _ in requirements} & DEV_DISTRIBUTIONS


def test_the_arm64_build_targets_lambdas_architecture_and_fits_the_quota(sam_build: SamBuild) -> None:
    dependencies, shared = sam_build.dependencies, sam_build.shared
    assert (dependencies / "pydantic_core" / "_pydantic_core.cpython-312-aarch64-linux-gnu.so").is_file()
    assert not list(dependencies.glob("**/*x86_64-linux-gnu.so")), "an x86_64 extension in the arm64 layer"
    assert (shared / "intacct_assignar" / "runtime.py").is_file()
    layers = {"dependencies": _size(dependencies), "shared": _size(shared)}
    total = sum(layers.values())
    for name, size in layers.items():
        print(f"arm64 {name} layer: {size / MIB:.2f} MB")
    print(f"arm64 layers together: {total / MIB:.2f} MB (limit {LAYERS_LIMIT_BYTES / MIB:.0f} MB)")
    assert total <= LAYERS_LIMIT_BYTES
    for folder in FUNCTIONS:
        deployed = total + _size(sam_build.function(folder))
        assert deployed <= LAMBDA_UNZIPPED_LIMIT_BYTES, f"{folder} and its layers: {deployed / MIB:.2f} MB"


def test_the_dependencies_layer_holds_exactly_the_locked_requirements(
    sam_build: SamBuild, x86_64_dependencies: Path
) -> None:
    locked = {(name, version) for name, version, _ in _requirements()}
    assert _distributions(sam_build.dependencies) == locked
    # The layer the import check uses is the same set, built for this machine.
    assert _distributions(x86_64_dependencies) == locked
    installed = {name for name, _ in locked}
    assert not installed & DEV_DISTRIBUTIONS, f"dev or CLI-only packages in the layer: {installed & DEV_DISTRIBUTIONS}"


def test_the_shared_layer_is_the_product_package_alone(sam_build: SamBuild) -> None:
    shared = sam_build.shared
    assert sorted(path.name for path in shared.iterdir()) == ["intacct_assignar"]
    package, source = shared / "intacct_assignar", REPO_ROOT / "shared" / "intacct_assignar"
    # Every module of the package's source, but those only the CLI and the demo use.
    expected = {
        path.relative_to(source)
        for path in source.rglob("*.py")
        if not DEV_MODULES & set(path.relative_to(source).parts)
    }
    assert {path.relative_to(package) for path in package.rglob("*.py")} == expected


def test_no_dev_module_reaches_the_build(sam_build: SamBuild, x86_64_dependencies: Path) -> None:
    ours = [sam_build.shared, *(sam_build.function(folder) for folder in FUNCTIONS)]
    for root in ours:
        names = {path.name for path in root.rglob("*")}
        assert not names & DEV_MODULES, f"{root}: {names & DEV_MODULES}"
    for root in (sam_build.dependencies, x86_64_dependencies):
        assert not list(root.glob("intacct_assignar*")), f"{root} holds our own code"


def _bytecode_problems(layer: Path, magic: bytes) -> list[str]:
    """What the runtime could not use in a layer's bytecode: a module without any, bytecode where python3.12 does
    not look, for another Python, or checked against its source (a timestamp, or a hash the runtime would verify)."""
    problems = []
    for source in layer.rglob("*.py"):
        if not (source.parent / "__pycache__" / f"{source.stem}.cpython-312.pyc").is_file():
            problems.append(f"{source.relative_to(layer)}: no cpython-312 bytecode")
    for compiled in layer.rglob("*.pyc"):
        header = compiled.read_bytes()[:8]
        # PEP 552: the magic number, then the flags: 0b01 is hash-based and never checked against the source.
        if compiled.parent.name != "__pycache__" or not compiled.name.endswith(".cpython-312.pyc"):
            problems.append(f"{compiled.relative_to(layer)}: not where python3.12 looks")
        elif header[:4] != magic or int.from_bytes(header[4:8], "little") != 0b01:
            problems.append(f"{compiled.relative_to(layer)}: header {header.hex()}, not 3.12 unchecked-hash")
    return problems


def test_the_layers_carry_bytecode_for_the_runtime(
    python312: str, sam_build: SamBuild, x86_64_dependencies: Path
) -> None:
    # Given the magic number of the runtime's Python (every 3.12 release has the same)
    magic = subprocess.run(  # noqa: S603  # fixed argument list, no shell
        [python312, "-c", "import importlib.util, sys; sys.stdout.write(importlib.util.MAGIC_NUMBER.hex())"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    # Then every module of both layers has its bytecode, compiled by 3.12, not checked against its source (Lambda's
    # /opt is read-only: bytecode missing or stale there is compiled again on every cold start and never kept)
    for layer in (sam_build.shared, sam_build.dependencies, x86_64_dependencies):
        assert list(layer.rglob("*.py")), f"{layer} holds no module"
        assert _bytecode_problems(layer, bytes.fromhex(magic)) == [], layer
    # And the functions' own folders none from this machine (sam copies them; they are read-only too, but each is
    # one small module)
    for folder in FUNCTIONS:
        assert not list(sam_build.function(folder).rglob("*.pyc")), f"{folder} holds bytecode compiled on this machine"


def test_negative_control_the_bytecode_check_sees_missing_foreign_and_checked_bytecode(
    python312: str, tmp_path: Path
) -> None:
    # Given a layer of five modules: one compiled as the build does, one not at all, one with a timestamp check, one
    # for another Python (a header with a different magic number) and one compiled only under another Python's name
    layer = tmp_path / "python"
    layer.mkdir()
    for name in ("good", "missing", "timestamped", "foreign", "old"):
        (layer / f"{name}.py").write_text("VALUE = 1\n")
    for name, mode in (("good", "unchecked-hash"), ("timestamped", "timestamp"), ("foreign", "unchecked-hash")):
        command = [python312, "-I", "-m", "compileall", "-q", "--invalidation-mode", mode, str(layer / f"{name}.py")]
        _run(command, tmp_path, {"PATH": os.environ.get("PATH", "")}, 60)
    foreign = layer / "__pycache__" / "foreign.cpython-312.pyc"
    foreign.write_bytes(b"\x00\x00\r\n" + foreign.read_bytes()[4:])
    good = layer / "__pycache__" / "good.cpython-312.pyc"
    (layer / "__pycache__" / "old.cpython-311.pyc").write_bytes(good.read_bytes())
    magic = good.read_bytes()[:4]
    # Then each of the four is named, and the good one is not
    problems = _bytecode_problems(layer, magic)
    assert sorted(problem.split(":")[0] for problem in problems) == [
        "__pycache__/foreign.cpython-312.pyc",
        "__pycache__/old.cpython-311.pyc",
        "__pycache__/timestamped.cpython-312.pyc",
        "missing.py",
        "old.py",
    ]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_the_handler_imports_from_the_built_layers_on_python312(
    function: str,
    python312: str,
    sam_build: SamBuild,
    x86_64_dependencies: Path,
    runtime_boto3: Path,
    tmp_path: Path,
) -> None:
    dependencies, shared = x86_64_dependencies, sam_build.shared
    paths = [str(sam_build.function(function)), str(dependencies), str(shared), str(runtime_boto3)]
    result = subprocess.run(  # noqa: S603  # fixed argument list, no shell
        # -I: no user site-packages, no PYTHON* variables, no script folder or cwd on sys.path. -S: not even the
        # interpreter's own site-packages, so only the paths handed over (and the standard library) can be imported.
        # -B: nothing written beside the modules, as on Lambda's read-only /opt and /var/task.
        [python312, "-I", "-S", "-B", "-c", IMPORT_PROGRAM, *paths],
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
    report: dict[str, Any] = json.loads(result.stdout)
    assert report["version"] == [3, 12]
    assert report["strays"] == [], f"modules loaded from outside the layers and the standard library: {report}"
    origins = report["origins"]
    assert origins["intacct_assignar"].startswith(str(shared))
    assert origins["aws_lambda_powertools"].startswith(str(dependencies))
    assert origins["pydantic_core"].startswith(str(dependencies))
