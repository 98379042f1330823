"""Benchmark: how long each Lambda handler takes to start cold, from the layers `sam build` makes, on python3.12.

A cold start waits, beyond Lambda's own set-up, for the import of `app` from the function folder with the layers at
/opt/python (Lambda's Init), then for what the first invocation builds before its first network call: the services
`Runtime` makes on first use. Both are measured, apart: an import made lazy only moves from the first to the second,
and the two together are what a cold webhook waits for before its own work.

Each measurement is one fresh `python3.12 -I -S -B` process with only these on its path: the function's built folder,
the shared layer, the dependencies layer and the runtime's boto3, as tests/integration/test_built_layers.py gives its
import check. `-B` because Lambda's /opt and /var/task are read-only: a layer without bytecode is compiled again on
every cold start, and this machine must not keep what it compiled between runs either. The first invocation's
set-up builds the `Runtime` attributes its handler uses (`FIRST_INVOCATION`), the secrets' values handed over from
memory where Powertools would fetch them: that is the network call it stops at (the client is made as in Lambda).

The arm64 build is what deploys, but this machine cannot load its compiled extensions, so the dependencies layer
is the same make target run for x86_64 (bytecode is the same on either). The runtime's boto3 is installed by
python3.12's pip with bytecode, as the runtime image carries it (`--runtime-boto3 source` leaves it out).

Runs go round the handlers in turn, so a change in the machine's load falls on all of them alike; the first round
is discarded (it reads the files into the page cache). Prints per handler the median, minimum and maximum of each
part and of the two together, the CPU time (less sensitive to the machine's load than the wall time), the modules
loaded by the import and whether the Intacct client and boto3 were among them, the machine's load, and with
`--profile N` five `-X importtime` runs of each import: the N top-level packages costing the most (their own time
summed, the median of the five; importtime's bookkeeping inflates it). Last, what a second AWS client costs on a
session of its own (as Powertools' utilities make one unless handed the function's) and on the shared one.

    .venv/bin/python benchmarks/cold_import.py                      # sam build, then 15 cold starts per handler
    .venv/bin/python benchmarks/cold_import.py --reuse --runs 25 --profile 8
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests/deployed.py

from tests.deployed import FUNCTION_ENV, LAMBDA_ENV, secrets_by_arn  # noqa: E402

FUNCTIONS = sorted(path.parent.name for path in (REPO / "functions").glob("*/app.py"))

# What a deployed function's environment and secrets hold (one copy, with the tests': tests/deployed.py).
DEPLOYED_ENV = {**FUNCTION_ENV, **LAMBDA_ENV}
SECRETS = secrets_by_arn()

# The `Runtime` attributes each handler's first invocation reads (see functions/*/app.py), in the order it reads them.
FIRST_INVOCATION = {
    "push_consumer": ("intacct", "assignar", "push_consumer", "run_log"),
    "smart_event_receiver": ("smart_event_receiver",),
    "sync_consumer": ("assignar", "sync_consumer", "run_log"),
    "sync_puller": ("intacct", "pull_service", "run_log"),
    "targeted_puller": ("event_consumer", "intacct", "run_log"),
    "timesheet_sweep": ("sweep_service",),
    "webhook_receiver": ("webhook_receiver",),
}

# Run in the fresh interpreter, its one argument a JSON object: paths, first (attributes), secrets. Lambda's bootstrap
# has imported json, time and the like before the handler, so importing them first here does not flatter the figure.
COLD_START_PROGRAM = """
import json, sys, time
given = json.loads(sys.argv[1])
sys.path[:0] = given["paths"]
started, cpu = time.perf_counter(), time.process_time()
import app
init_s, init_cpu_s = time.perf_counter() - started, time.process_time() - cpu
loaded = {
    "modules": len(sys.modules),
    "intacct": "intacct_assignar.intacct.client" in sys.modules,
    "boto3": "boto3" in sys.modules,
}
started, cpu = time.perf_counter(), time.process_time()
if given["first"]:
    # The secret's value from memory: fetching it is the network call this stops at. What comes before (Powertools'
    # parameters, the Secrets Manager client) runs as in Lambda.
    from aws_lambda_powertools.utilities.parameters.secrets import SecretsProvider

    SecretsProvider._get = lambda self, name, **options: json.dumps(given["secrets"][name])
    from intacct_assignar.runtime import Runtime

    runtime = Runtime.current()
    for attribute in given["first"]:
        getattr(runtime, attribute)
first_s, first_cpu_s = time.perf_counter() - started, time.process_time() - cpu
times = {"init_s": init_s, "init_cpu_s": init_cpu_s, "first_s": first_s, "first_cpu_s": first_cpu_s}
print(json.dumps({**times, **loaded}))
"""


@dataclass(frozen=True)
class Layout:
    """Where the built pieces are: the `sam build` folder, and the two this machine adds to import them."""

    build: Path
    dependencies: Path
    boto3: Path
    functions: dict[str, str] = field(default_factory=dict)

    def paths(self, function: str) -> list[str]:
        folder = self.build / self.functions[function]
        return [str(folder), str(self.build / "SharedLayer" / "python"), str(self.dependencies), str(self.boto3)]


def find_python312() -> str:
    """The first interpreter that really runs as 3.12 (pyenv's shim answers to the name but may not run)."""
    candidates = [str(path) for path in sorted(Path.home().glob(".pyenv/versions/3.12*/bin/python3.12"))]
    if on_path := shutil.which("python3.12"):
        candidates.append(on_path)
    for candidate in candidates:
        probe = subprocess.run(  # noqa: S603  # fixed argument list, no shell
            [candidate, "-c", "import sys; sys.exit(sys.version_info[:2] != (3, 12))"], capture_output=True, check=False
        )
        if probe.returncode == 0:
            return candidate
    sys.exit("python3.12 (the Lambda runtime's Python) not found under ~/.pyenv/versions/3.12* or on PATH")


def run(command: list[str], env: dict[str, str], cwd: Path = REPO) -> None:
    print("$", " ".join(command), flush=True)
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        sys.exit(f"failed ({result.returncode}):\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")


def function_folders() -> dict[str, str]:
    """Each function's logical id in the template (its folder in the build), by its folder under functions/."""
    from samtranslator.yaml_helper import yaml_parse

    template = yaml_parse((REPO / "template.yaml").read_text())
    return {
        Path(resource["Properties"]["CodeUri"]).name: name
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def build(python312: str, build_dir: Path, work: Path, boto3_mode: str, reuse: bool) -> Layout:
    layout = Layout(
        build=build_dir,
        dependencies=work / "dependencies-x86_64" / "python",
        boto3=work / f"runtime-boto3-{boto3_mode}",
        functions=function_folders(),
    )
    env = {key: value for key, value in os.environ.items() if key not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}}
    env |= {"LAYER_PYTHON": python312, "SAM_CLI_TELEMETRY": "0"}
    if reuse and layout.build.is_dir() and layout.dependencies.is_dir():
        print(f"reusing {layout.build} and {layout.dependencies.parent}")
    else:
        sam = str(Path(sys.executable).parent / "sam")
        run([sam, "build", "--template", str(REPO / "template.yaml"), "--build-dir", str(build_dir)], env)
        shutil.rmtree(layout.dependencies.parent, ignore_errors=True)
        layout.dependencies.parent.mkdir(parents=True)
        makefile = REPO / "layers" / "dependencies" / "Makefile"
        artifacts = [f"ARTIFACTS_DIR={layout.dependencies.parent}"]
        run(
            ["make", "--makefile", str(makefile), "build-DependenciesLayer", "LAMBDA_ARCH=x86_64", *artifacts],
            env,
            cwd=layout.dependencies.parent,
        )
    if not layout.boto3.is_dir():
        # The version this project locks, so runs on different days measure the same boto3.
        pip = [python312, "-m", "pip", "install", "--quiet", "--no-warn-conflicts", "--disable-pip-version-check"]
        compile_flag = [] if boto3_mode == "compiled" else ["--no-compile"]
        run(
            [*pip, *compile_flag, "--target", str(layout.boto3), f"boto3=={version('boto3')}"],
            env,
        )
    return layout


def child(python312: str, layout: Layout, function: str, home: Path, profile: bool) -> subprocess.CompletedProcess[str]:
    # The profile is of the import alone.
    given = {
        "paths": layout.paths(function),
        "first": [] if profile else FIRST_INVOCATION[function],
        "secrets": SECRETS,
    }
    options = ["-X", "importtime"] if profile else []
    result = subprocess.run(  # noqa: S603  # fixed argument list, no shell
        [python312, "-I", "-S", "-B", *options, "-c", COLD_START_PROGRAM, json.dumps(given)],
        env={**DEPLOYED_ENV, "HOME": str(home)},
        cwd=home,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"functions/{function}: the cold start failed:\n{result.stderr}")
    return result


def by_package(importtime: str) -> Counter[str]:
    """`-X importtime` lines summed by top-level package: its own microseconds, not its imports'."""
    costs: Counter[str] = Counter()
    for line in importtime.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, _, name = (part.strip() for part in line.removeprefix("import time:").split("|"))
        costs[name.partition(".")[0]] += int(own)
    return costs


# A second AWS client made on a session of its own (as Powertools' providers do unless handed one) or on the session
# the first was made on, each in a fresh interpreter after a first client.
SESSION_PROGRAM = """
import sys, time
sys.path[:0] = sys.argv[2:]
import boto3
boto3.client("sqs")
started = time.perf_counter()
session = boto3.session.Session() if sys.argv[1] == "own" else boto3.DEFAULT_SESSION
session.client("secretsmanager")
print(time.perf_counter() - started)
"""


def session_costs(python312: str, layout: Layout, home: str, runs: int) -> dict[str, list[float]]:
    costs: dict[str, list[float]] = {"own": [], "shared": []}
    for _ in range(runs):
        for kind, values in costs.items():
            done = subprocess.run(  # noqa: S603  # fixed argument list, no shell
                [python312, "-I", "-S", "-B", "-c", SESSION_PROGRAM, kind, str(layout.boto3)],
                env={**DEPLOYED_ENV, "HOME": home},
                cwd=home,
                capture_output=True,
                text=True,
                check=True,
            )
            values.append(float(done.stdout))
    return costs


PARTS = ("init_s", "first_s", "total_s", "init_cpu_s", "first_cpu_s")


def measure(python312: str, layout: Layout, runs: int, profile: int) -> dict[str, Any]:
    figures: dict[str, dict[str, list[float]]] = {function: {part: [] for part in PARTS} for function in FUNCTIONS}
    seen: dict[str, dict[str, Any]] = {}
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory() as home:
        for round_number in range(runs + 1):
            for function in FUNCTIONS:
                report = json.loads(child(python312, layout, function, Path(home), profile=False).stdout)
                report["total_s"] = report["init_s"] + report["first_s"]
                if round_number:
                    for part in PARTS:
                        figures[function][part].append(report[part])
                seen[function] = report
            loads.append(os.getloadavg()[0])
        profiles = {}
        if profile:
            for function in FUNCTIONS:
                # One importtime run is as noisy as one cold start: the median of a few, package by package.
                samples = [
                    by_package(child(python312, layout, function, Path(home), profile=True).stderr) for _ in range(5)
                ]
                names: set[str] = set().union(*samples)
                medians = {name: statistics.median(sample[name] for sample in samples) for name in names}
                profiles[function] = Counter(medians).most_common(profile)
        sessions = session_costs(python312, layout, home, runs)
    return {"figures": figures, "seen": seen, "loads": loads, "profiles": profiles, "sessions": sessions}


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15, help="imports per handler (after one discarded round)")
    parser.add_argument("--build-dir", type=Path, default=REPO / ".aws-sam" / "build")
    parser.add_argument("--reuse", action="store_true", help="measure the last build instead of building again")
    parser.add_argument(
        "--work", type=Path, default=REPO / ".aws-sam" / "cold-import", help="the x86_64 layer and boto3 go here"
    )
    parser.add_argument("--runtime-boto3", choices=("compiled", "source"), default="compiled")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="show the N costliest packages")
    args = parser.parse_args()

    python312 = find_python312()
    layout = build(python312, args.build_dir.resolve(), args.work.resolve(), args.runtime_boto3, args.reuse)
    shared = layout.build / "SharedLayer" / "python"
    bytecode = {
        "shared": len(list(shared.rglob("*.cpython-312.pyc"))),
        "dependencies": len(list(layout.dependencies.rglob("*.cpython-312.pyc"))),
    }
    print(f"\npython: {python312}; runtime boto3 {version('boto3')}, {args.runtime_boto3}")
    print(f"3.12 bytecode files in the layers: shared {bytecode['shared']}, dependencies {bytecode['dependencies']}")
    print(f"{args.runs} cold starts per handler\n")

    result = measure(python312, layout, args.runs, args.profile)
    print("seconds: median (min-max)")
    print(f"{'handler':<17} {'import (Init)':>21} {'first invocation':>21} {'together':>21}  cpu: import, first")
    for function in FUNCTIONS:
        values = result["figures"][function]
        print(
            f"{function:<17} {spread(values['init_s']):>21} {spread(values['first_s']):>21}"
            f" {spread(values['total_s']):>21}  {statistics.median(values['init_cpu_s']):.3f},"
            f" {statistics.median(values['first_cpu_s']):.3f}"
        )
    print(f"\n{'handler':<17} {'modules':>8}  Intacct client  boto3   (loaded by the import)")
    for function in FUNCTIONS:
        seen = result["seen"][function]
        intacct, boto3 = ("yes" if seen[name] else "no" for name in ("intacct", "boto3"))
        print(f"{function:<17} {seen['modules']:>8}  {intacct:>14}  {boto3:>5}")
    loads = result["loads"]
    print(
        f"\nmachine load (1-minute average) during the runs: {min(loads):.2f}-{max(loads):.2f}, {os.cpu_count()} cores"
    )
    own, shared = result["sessions"]["own"], result["sessions"]["shared"]
    print(f"\na second AWS client (Secrets Manager after SQS), on a session of its own: {spread(own)} s;")
    print(f"  on the first client's session: {spread(shared)} s")
    if result["profiles"]:
        print("\nimport profile (-X importtime, own time summed by top-level package):")
    for function, costs in result["profiles"].items():
        listed = ", ".join(f"{name} {micros / 1000:.0f} ms" for name, micros in costs)
        print(f"  {function}: {listed}")


if __name__ == "__main__":
    main()
