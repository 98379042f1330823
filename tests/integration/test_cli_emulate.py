"""`intacct-assignar emulate`: both emulators served, the printed settings work, Ctrl-C stops them."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path

from intacct_assignar.assignar import AssignarClient
from intacct_assignar.intacct import IntacctClient
from intacct_assignar.settings import AssignarSettings, IntacctSettings

CLI = Path(sys.executable).parent / "intacct-assignar"


def test_emulate_prints_settings_that_reach_both_emulators_and_stops_on_ctrl_c() -> None:
    process = subprocess.Popen(  # noqa: S603  # fixed argument list, no shell
        [str(CLI), "emulate", "--intacct-port", "0", "--assignar-port", "0", "--size", "15"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        assert process.stdout is not None
        settings: dict[str, str] = {}
        while len(settings) < 11:
            line = process.stdout.readline()
            assert line, "emulate ended before printing its settings"
            name, _, value = line.removeprefix("export ").strip().partition("=")
            settings[name] = shlex.split(value)[0]
        # The printed settings are all the clients need: Assignar lists its one user, Intacct its employees.
        with AssignarClient(AssignarSettings.model_validate(settings), requests_per_second=None) as assignar:
            assert len(assignar.workers.list()) == 1
        with IntacctClient(IntacctSettings.model_validate(settings), timezone="America/Denver") as intacct:
            assert intacct.query("EMPLOYEE", ("EMPLOYEEID",)).totalcount == 15
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=20)
    assert process.returncode == 0, stderr
    assert "owner_user_id" in stderr and "Stopped." in stderr
