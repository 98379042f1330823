"""`intacct-assignar demo` with every log level at DEBUG: none of the secrets it keeps in Secrets Manager
appears in any output, though the functions read them with GetSecretValue through botocore.

The demo runs in a subprocess set up as Lambda's Python runtime sets up a function at DEBUG: a handler on the
root logger and the root at DEBUG, and AWS_LAMBDA_LOG_LEVEL=DEBUG (advanced logging controls), which Powertools
honours over the POWERTOOLS_LOG_LEVEL=ERROR the demo gives its functions. The same run without the floor is the
negative control: botocore then writes each GetSecretValue body, so this test would see a leak.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote_plus

import pytest

ROOT = Path(__file__).resolve().parents[2]

RUN = r"""
import json, logging, sys

mode, secrets_file = sys.argv[1], sys.argv[2]
root = logging.getLogger()
handler = logging.StreamHandler(sys.stderr)
handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
root.addHandler(handler)
root.setLevel(logging.DEBUG)

from intacct_assignar import observability
from intacct_assignar_dev import local_aws
from intacct_assignar.cli import main

create = local_aws.LocalStack.create.__func__

def recording(cls, secrets, **options):
    # The settings the demo stores as Secrets Manager secrets (the Assignar client secret is random per run), and
    # those the stack generates itself (the Smart Event token).
    stack = create(cls, secrets, **options)
    stored = {name: dict(settings) for name, settings in secrets.items()}
    stored.update({name: stack.secret_settings(name) for name in stack.secrets})
    with open(secrets_file, "w") as out:
        json.dump(stored, out)
    return stack

local_aws.LocalStack.create = classmethod(recording)

if mode == "unpinned":
    observability.pin_library_loggers = lambda: None
    for name, item in list(logging.Logger.manager.loggerDict.items()):
        if isinstance(item, logging.Logger) and not observability.is_own(name):
            item.setLevel(logging.NOTSET)
    for each in root.handlers:
        each.filters[:] = [f for f in each.filters if not isinstance(f, observability.LibraryFloor)]

sys.argv = ["intacct-assignar", "demo", "--size", "30", "--json", "--debug"]
main()
"""


class Run:
    def __init__(self, directory: Path, mode: str) -> None:
        directory.mkdir()
        self.secrets_file = directory / "secrets.json"
        self.stdout_file = directory / "stdout.txt"
        self.stderr_file = directory / "stderr.txt"
        env = {
            **os.environ,
            "LOG_LEVEL": "DEBUG",
            "POWERTOOLS_LOG_LEVEL": "DEBUG",
            "AWS_LAMBDA_LOG_LEVEL": "DEBUG",
            "PYTHONPATH": os.pathsep.join([str(ROOT / "shared"), os.environ.get("PYTHONPATH", "")]),
        }
        self._files: list[IO[str]] = [self.stdout_file.open("w"), self.stderr_file.open("w")]
        self.process = subprocess.Popen(  # noqa: S603  # fixed argument list, no shell
            [sys.executable, "-c", RUN, mode, str(self.secrets_file)],
            cwd=directory,
            env=env,
            stdout=self._files[0],
            stderr=self._files[1],
            text=True,
        )

    def finish(self) -> tuple[int, str, str]:
        try:
            code = self.process.wait(timeout=120)
        finally:
            self.process.kill()
            for file in self._files:
                file.close()
        return code, self.stdout_file.read_text(), self.stderr_file.read_text()

    def secrets(self) -> dict[str, Any]:
        stored: dict[str, Any] = json.loads(self.secrets_file.read_text())
        return stored


def secret_values(stored: dict[str, Any]) -> dict[str, str]:
    """Every password, secret and token the demo stores, by setting name."""
    return {
        key: value
        for settings in stored.values()
        for key, value in settings.items()
        if ("PASSWORD" in key or "SECRET" in key or key.endswith("_TOKEN")) and value
    }


def encodings(stored: dict[str, Any]) -> dict[str, str]:
    """Each secret as it could be written: plain, JSON-escaped (also inside a JSON string, as a SecretString
    is), URL-encoded, base64; the Basic credentials of the Assignar token request; each whole secret."""
    forms: dict[str, str] = {}
    for key, value in secret_values(stored).items():
        forms[key] = value
        forms[f"{key} (JSON)"] = json.dumps(value)[1:-1]
        forms[f"{key} (JSON in JSON)"] = json.dumps(json.dumps(value))[1:-1]
        forms[f"{key} (URL)"] = quote_plus(value)
        forms[f"{key} (base64)"] = base64.b64encode(value.encode()).decode()
    assignar = stored["AssignarSecretArn"]
    basic = f"{assignar['ASSIGNAR_CLIENT_ID']}:{assignar['ASSIGNAR_CLIENT_SECRET']}"
    forms["Assignar Basic credentials"] = base64.b64encode(basic.encode()).decode()
    for name, settings in stored.items():
        forms[f"{name} (base64)"] = base64.b64encode(json.dumps(settings).encode()).decode()
    return forms


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Run, int, str, str]]:
    # Both at once: each is a whole demo (about ten seconds).
    started = {mode: Run(tmp_path_factory.mktemp("logs") / mode, mode) for mode in ("pinned", "unpinned")}
    return {mode: (run, *run.finish()) for mode, run in started.items()}


def test_without_the_floor_botocore_writes_the_secrets_at_debug(runs: dict[str, tuple[Run, int, str, str]]) -> None:
    # The negative control: the harness sees the leak the floor prevents.
    run, code, stdout, stderr = runs["unpinned"]
    assert code == 0, stderr[-3000:]
    output = stdout + stderr
    values = secret_values(run.secrets())
    assert set(values) == {
        "INTACCT_SENDER_PASSWORD",
        "INTACCT_USER_PASSWORD",
        "ASSIGNAR_CLIENT_SECRET",
        "ASSIGNAR_WEBHOOK_SECRET",
        "INTACCT_EVENTS_TOKEN",  # the stack's own secret, read by the Smart Event receiver alone
    }
    bodies = [line for line in output.splitlines() if '"SecretString"' in line]
    assert "GetSecretValue" in output and bodies, "the functions should read their secrets through botocore"
    for key, value in values.items():
        assert any(value in body for body in bodies), key


def test_at_debug_the_demo_writes_none_of_its_secrets(runs: dict[str, tuple[Run, int, str, str]]) -> None:
    run, code, stdout, stderr = runs["pinned"]
    assert code == 0, stderr[-3000:]
    summary = json.loads(stdout[stdout.index('{\n  "company"') :])
    assert summary["ok"] is True, summary["problems"]
    # The run was verbose: the functions' Powertools lines and our modules' lines through the root handler.
    assert '"level":"INFO"' in stdout and "INFO intacct_assignar." in stderr
    output = stdout + stderr
    leaked = [form for form, text in encodings(run.secrets()).items() if text in output]
    assert leaked == []
    assert "DEBUG botocore" not in output and "DEBUG urllib3" not in output and "DEBUG httpcore" not in output
