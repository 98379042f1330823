"""Build the two Lambda layers the way `sam build` lays them out, without Docker, and check their size.

What `sam build` does for a `BuildMethod: python3.12` layer (docs: serverless-aws.md §2.5): pip-installs the
ContentUri's requirements.txt into `python/` and copies the ContentUri tree into `python/`; Lambda mounts a layer at
`/opt`, and `/opt/python` is on the runtime's `sys.path`. This script produces the same `python/` trees so they can
be measured and imported by a plain python3.12 on a machine with neither Docker nor SAM CLI:

    build/layers/<arch>/dependencies/python/     third-party packages for the target platform
    build/layers/<arch>/shared/python/intacct_assignar/
    build/layers/<arch>/sizes.json

Usage: python scripts/build_layers.py [--arch arm64] [--arch x86_64] [--out build/layers]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = REPO_ROOT / "layers" / "dependencies" / "requirements.txt"
SHARED_PACKAGE = REPO_ROOT / "shared" / "intacct_assignar"
DEFAULT_OUT = REPO_ROOT / "build" / "layers"

# The runtime in template.yaml: CPython 3.12. pip picks wheels for it whatever interpreter runs this script.
PYTHON_VERSION = "3.12"
# Lambda architecture -> the manylinux platform tag pip should pick wheels for. manylinux2014 (glibc 2.17) is
# what `sam build` asks for too, and the python3.12 runtime (Amazon Linux 2023, glibc 2.34) runs it.
PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}
DEFAULT_ARCH = "arm64"  # what template.yaml deploys

MIB = 1024 * 1024
# Lambda quota "Deployment package (.zip file archive) size: 250 MB (unzipped)", which covers the function's code
# and all of its layers together (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). The
# API enforces it as 262144000 bytes, i.e. 250 MiB.
LAMBDA_UNZIPPED_LIMIT_BYTES = 250 * MIB
# Each function's own code (functions/<fn>/app.py) is a few kB; keep 5 MiB of the quota for it.
FUNCTION_CODE_ALLOWANCE_BYTES = 5 * MIB
LAYERS_UNZIPPED_LIMIT_BYTES = LAMBDA_UNZIPPED_LIMIT_BYTES - FUNCTION_CODE_ALLOWANCE_BYTES

# Subpackages of intacct_assignar left out of the shared layer. `emulators` (the local Intacct/Assignar fakes)
# is only imported by the demo, `emulate` and the local stack, which only the CLI uses; no handler under
# functions/ reaches it. The integration
# test tests/integration/test_built_layers.py imports every handler from the built layers, so it fails if a
# handler ever comes to need it.
EXCLUDED_SUBPACKAGES = frozenset({"emulators"})


@dataclass(frozen=True)
class Size:
    bytes: int
    files: int

    @property
    def mb(self) -> float:
        return round(self.bytes / MIB, 2)

    def as_dict(self) -> dict[str, float | int]:
        return {**asdict(self), "mb": self.mb}

    def __add__(self, other: Size) -> Size:
        return Size(self.bytes + other.bytes, self.files + other.files)


def measure(root: Path) -> Size:
    """Unzipped size as Lambda counts it: the sum of the regular files' sizes (symlinks not followed)."""
    files = [path for path in root.rglob("*") if path.is_file() and not path.is_symlink()]
    return Size(bytes=sum(path.stat().st_size for path in files), files=len(files))


def remove_pycache(root: Path) -> None:
    # Bytecode compiled on the build machine is for whatever Python ran pip, not necessarily 3.12: dead weight.
    for cache in sorted(root.rglob("__pycache__"), reverse=True):
        shutil.rmtree(cache)


def build_dependencies(arch: str, target: Path) -> None:
    """pip-install requirements.txt into `target` as wheels for CPython 3.12 on Linux/`arch`."""
    command = [
        # The interpreter running this script: .venv's or .venv-py312's pip, whichever the caller used.
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--target",
        str(target),
        # Cross-platform install: wheels for the Lambda architecture, not this machine's. pip requires
        # --only-binary=:all: with --platform, since it cannot build an sdist for another platform.
        "--platform",
        PLATFORMS[arch],
        "--implementation",
        "cp",
        "--python-version",
        PYTHON_VERSION,
        "--only-binary=:all:",
        # No .pyc: they would be compiled by this interpreter's version and be useless on the target.
        "--no-compile",
        # pip's post-install conflict check looks at the running interpreter's environment (dev tools in .venv),
        # not at the target folder, so its "ERROR: ... dependency conflicts" would be about the wrong packages.
        "--no-warn-conflicts",
        "-r",
        str(REQUIREMENTS),
    ]
    subprocess.run(command, check=True)  # noqa: S603  # fixed argument list, no shell
    remove_pycache(target)  # belt and braces: some wheels ship __pycache__ of their own


def build_shared(target: Path) -> None:
    """Copy the intacct_assignar package (source only) to `target/intacct_assignar`."""

    def ignore(directory: str, names: list[str]) -> set[str]:
        skipped = {name for name in names if name == "__pycache__" or name.endswith((".pyc", ".pyo"))}
        if Path(directory) == SHARED_PACKAGE:
            skipped |= EXCLUDED_SUBPACKAGES.intersection(names)
        return skipped

    shutil.copytree(SHARED_PACKAGE, target / SHARED_PACKAGE.name, ignore=ignore)


def build_arch(arch: str, out: Path) -> bool:
    """Build both layers for `arch` into `out/arch`; print and record their sizes. True if within the quota."""
    arch_dir = out / arch
    # A clean rebuild: pip --target would otherwise leave packages dropped from requirements.txt behind.
    shutil.rmtree(arch_dir, ignore_errors=True)
    dependencies = arch_dir / "dependencies" / "python"
    shared = arch_dir / "shared" / "python"
    dependencies.mkdir(parents=True)
    shared.mkdir(parents=True)

    build_dependencies(arch, dependencies)
    build_shared(shared)

    sizes = {"dependencies": measure(dependencies), "shared": measure(shared)}
    total = sizes["dependencies"] + sizes["shared"]
    within = total.bytes <= LAYERS_UNZIPPED_LIMIT_BYTES

    print(f"{arch}:")
    for name, size in sizes.items():
        print(f"  {name:<13} {size.mb:8.2f} MB  {size.files:6d} files")
    limit_mb = LAYERS_UNZIPPED_LIMIT_BYTES / MIB
    print(f"  {'total':<13} {total.mb:8.2f} MB  {total.files:6d} files  (limit {limit_mb:.0f} MB)")
    if not within:
        quota_mb = LAMBDA_UNZIPPED_LIMIT_BYTES / MIB
        print(f"  over the limit: Lambda allows {quota_mb:.0f} MB unzipped for a function and all its layers together")

    report = {
        "arch": arch,
        "platform": PLATFORMS[arch],
        "python_version": PYTHON_VERSION,
        "layers": {name: size.as_dict() for name, size in sizes.items()},
        "total": total.as_dict(),
        "limit_bytes": LAYERS_UNZIPPED_LIMIT_BYTES,
        "within_limit": within,
    }
    (arch_dir / "sizes.json").write_text(json.dumps(report, indent=2) + "\n")
    return within


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--arch",
        action="append",
        choices=sorted(PLATFORMS),
        help=f"Lambda architecture to build for; repeat for several (default: {DEFAULT_ARCH})",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: build/layers)")
    args = parser.parse_args(argv)
    # Not default=[...] on the append action: argparse would append the user's values to the default list.
    args.arch = list(dict.fromkeys(args.arch or [DEFAULT_ARCH]))
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    out: Path = args.out.resolve()
    results = [build_arch(arch, out) for arch in args.arch]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
