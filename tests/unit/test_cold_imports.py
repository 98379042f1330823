"""What a Lambda function loads for its cold start: its handler module, then what its first invocation builds.

`runtime.py` imports each service's modules where it builds the service, and the packages' `__init__` import their
clients and drivers only when asked for (`lazy_exports.py`), so a function loads only what it runs: the webhook
receiver never the Intacct client, the Assignar client or a state store; the approval watcher never the Intacct
client; no function SQLite. Each case runs in a fresh interpreter and reads its `sys.modules`; each kind of check
has a negative control showing the probe sees a module that is loaded. How long a cold start takes is measured by
benchmarks/cold_import.py (BENCHMARKS.md), not here.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import pytest
from intacct_assignar import assignar, intacct, state

from tests.deployed import FUNCTION_ENV, SECRETS

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT / "shared"
FUNCTIONS = sorted(path.parent.name for path in (ROOT / "functions").glob("*/app.py"))

ENVIRONMENT = FUNCTION_ENV

# Imports each of `imports` ("module", or "module:name" to also ask the module for a name), then builds the
# `Runtime` attributes in `build` as a first invocation does (the secrets from memory: no network call is made,
# building a client opens no connection), and prints every module loaded.
PROBE = """
import importlib, json, sys
given = json.loads(sys.argv[1])
sys.path[:0] = given["paths"]
for each in given["imports"]:
    module, _, name = each.partition(":")
    loaded = importlib.import_module(module)
    if name:
        getattr(loaded, name)
if given["build"]:
    from intacct_assignar.runtime import Runtime

    Runtime.secret = lambda self, arn, what: given["secrets"][what]
    runtime = Runtime.current()
    for attribute in given["build"]:
        getattr(runtime, attribute)
print(json.dumps(sorted(sys.modules)))
"""


def loaded(
    tmp_path: Path, imports: Sequence[str], *, function: str | None = None, build: Sequence[str] = ()
) -> set[str]:
    """The modules a fresh interpreter holds after `imports` (and `build`), with `function`'s folder on its path."""
    paths = [str(SHARED)] if function is None else [str(ROOT / "functions" / function), str(SHARED)]
    given = {"paths": paths, "imports": list(imports), "build": list(build), "secrets": SECRETS}
    done = subprocess.run(  # noqa: S603  # this interpreter, a fixed program
        # -I: nothing from PYTHONPATH or the working folder, only the paths given (and this environment's packages).
        [sys.executable, "-I", "-c", PROBE, json.dumps(given)],
        env={**ENVIRONMENT, "HOME": str(tmp_path)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout))


def within(modules: set[str], *packages: str) -> set[str]:
    """The modules that are one of `packages` or inside one."""
    return {name for name in modules if any(name == each or name.startswith(f"{each}.") for each in packages)}


def test_the_webhook_receiver_never_loads_intacct_the_assignar_client_or_a_state_store(tmp_path: Path) -> None:
    # Given the receiver's handler, imported cold, and its receiver built as its first delivery builds it
    modules = loaded(tmp_path, ["app"], function="webhook_receiver", build=["webhook_receiver"])
    # Then it holds the receiver, and none of what only the other functions use
    assert "intacct_assignar.outbound.receiver" in modules
    unused = ("intacct_assignar.intacct", "intacct_assignar.assignar.client", "intacct_assignar.state", "httpx")
    assert within(modules, *unused, "intacct_assignar.inbound", "xmltodict", "sqlite3") == set()


def test_the_smart_event_receiver_never_loads_a_client_the_pull_or_a_state_store(tmp_path: Path) -> None:
    # Given the Smart Event receiver's handler, imported cold, and its receiver built as its first notice builds it
    modules = loaded(tmp_path, ["app"], function="smart_event_receiver", build=["smart_event_receiver"])
    # Then it holds the receiver and the notice format, and none of what only the targeted puller uses
    assert {"intacct_assignar.inbound.events", "intacct_assignar.smart_events"} <= modules
    unused = ("intacct_assignar.intacct.client", "intacct_assignar.assignar.client", "intacct_assignar.state.dynamodb")
    heavy = ("intacct_assignar.inbound.pull", "intacct_assignar.inbound.targeted", "httpx", "xmltodict", "sqlite3")
    assert within(modules, *unused, *heavy) == set()


def test_negative_control_the_targeted_puller_loads_the_pull_the_receiver_leaves_out(tmp_path: Path) -> None:
    # Given the targeted puller, with its consumer built as its first batch builds it
    modules = loaded(tmp_path, ["app"], function="targeted_puller", build=["event_consumer"])
    # Then the probe finds the pull, the Intacct client and its transport
    assert {"intacct_assignar.inbound.targeted", "intacct_assignar.inbound.pull", "httpx", "xmltodict"} <= modules


def test_the_cold_start_benchmark_measures_every_function_with_what_it_reads() -> None:
    # Given benchmarks/cold_import.py, which cold-starts every functions/*/app.py and builds what its first
    # invocation builds (stdlib only at import: loading it runs nothing)
    spec = importlib.util.spec_from_file_location("cold_import_benchmark", ROOT / "benchmarks" / "cold_import.py")
    assert spec is not None and spec.loader is not None
    benchmark = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = benchmark  # its dataclasses look their module up
    try:
        spec.loader.exec_module(benchmark)
    finally:
        del sys.modules[spec.name]
    # Then each function has its first invocation (a function without one stops the run with a KeyError), and every
    # secret a function is pointed at holds its settings
    assert set(benchmark.FIRST_INVOCATION) == set(FUNCTIONS)
    arns = {value for name, value in benchmark.DEPLOYED_ENV.items() if name.endswith("_SECRET_ARN")}
    assert arns == set(benchmark.SECRETS) and all(benchmark.SECRETS.values())


def test_the_approval_watcher_never_loads_the_intacct_client(tmp_path: Path) -> None:
    # Given the watcher's handler and its sweep, which reads the Intacct secret for the entity only
    modules = loaded(tmp_path, ["app"], function="timesheet_sweep", build=["sweep_service"])
    # Then it holds the sweep and the Assignar client, but not Intacct's client
    assert {"intacct_assignar.outbound.sweep", "intacct_assignar.assignar.client"} <= modules
    assert within(modules, "intacct_assignar.intacct.client", "sqlite3") == set()


@pytest.mark.parametrize("function", FUNCTIONS)
def test_no_handler_import_loads_sqlite_or_the_development_package(function: str, tmp_path: Path) -> None:
    modules = loaded(tmp_path, ["app"], function=function)
    assert "intacct_assignar.runtime" in modules
    assert within(modules, "sqlite3", "intacct_assignar_dev", "moto", "intacct_assignar.cli") == set()


def test_negative_control_the_probe_sees_the_clients_a_function_builds(tmp_path: Path) -> None:
    # Given the push consumer, which posts to Intacct, with its Intacct client built
    modules = loaded(tmp_path, ["app"], function="push_consumer", build=["intacct"])
    # Then the probe finds the client and its transport
    assert {"intacct_assignar.intacct.client", "httpx"} <= modules


@pytest.mark.parametrize(
    ("light", "heavy"),
    [
        ("intacct_assignar.assignar.webhooks", ("intacct_assignar.assignar.client", "httpx")),
        ("intacct_assignar.assignar.errors", ("intacct_assignar.assignar.client", "intacct_assignar.assignar.models")),
        ("intacct_assignar.intacct.errors", ("intacct_assignar.intacct.client", "xmltodict", "httpx")),
        ("intacct_assignar.state", ("intacct_assignar.state.dynamodb", "intacct_assignar.state.sqlite", "boto3")),
    ],
)
def test_a_light_module_of_a_package_does_not_load_its_client(light: str, heavy: Sequence[str], tmp_path: Path) -> None:
    assert within(loaded(tmp_path, [light]), *heavy) == set()


@pytest.mark.parametrize(
    ("asked", "heavy"),
    [
        ("intacct_assignar.assignar:AssignarClient", ("intacct_assignar.assignar.client", "httpx")),
        ("intacct_assignar.intacct:IntacctClient", ("intacct_assignar.intacct.client", "xmltodict")),
        ("intacct_assignar.state:SqliteStateStore", ("intacct_assignar.state.sqlite", "sqlite3")),
    ],
)
def test_negative_control_asking_a_package_for_its_client_loads_it(
    asked: str, heavy: Sequence[str], tmp_path: Path
) -> None:
    assert set(heavy) <= loaded(tmp_path, [asked])


@pytest.mark.parametrize("package", [assignar, intacct, state], ids=lambda package: package.__name__)
def test_every_name_a_package_offers_resolves(package: ModuleType, tmp_path: Path) -> None:
    # The names are listed twice in each package (for mypy, and for the lazy import): one missing from the second
    # list fails here, not in the function that first asks for it. In a fresh interpreter, as a function asks.
    names = list(package.__all__)
    assert len(names) > 3
    modules = loaded(tmp_path, [f"{package.__name__}:{name}" for name in names])
    assert package.__name__ in modules


@pytest.mark.parametrize("package", [assignar, intacct, state], ids=lambda package: package.__name__)
def test_negative_control_a_name_a_package_does_not_offer_is_an_attribute_error(package: ModuleType) -> None:
    with pytest.raises(AttributeError, match="has no attribute 'NotOffered'"):
        getattr(package, "NotOffered")  # noqa: B009  # the name is the point
