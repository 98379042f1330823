"""One emulated tenant for the command-line tests: both emulators over HTTP, a seeded company, a tenant document
naming the work-order owner, and a state file, in a folder of the test's own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from intacct_assignar.cli import app
from intacct_assignar_dev.emulators.assignar import AssignarEmulator
from intacct_assignar_dev.emulators.intacct import (
    STANDARD,
    CompanyProfile,
    IntacctEmulator,
    IntacctStore,
    generate_company,
)
from typer.testing import CliRunner, Result

ZONE = "America/Denver"
runner = CliRunner()


@dataclass
class Tenant:
    env: dict[str, str]
    config: Path
    state: Path
    intacct: IntacctStore
    gateway: IntacctEmulator
    assignar: AssignarEmulator

    def cli(self, *args: str, **env: str) -> Result:
        """`intacct-assignar ARGS --config … --state …`, with these settings over the tenant's."""
        return runner.invoke(app, [*args, "--config", str(self.config), "--state", str(self.state)], env=self.env | env)

    def run(self, *args: str, **env: str) -> tuple[int, str]:
        result = self.cli(*args, **env)
        return result.exit_code, result.output

    def writes(self) -> int:
        """Assignar writes so far."""
        return self.assignar.calls("POST", "/v2") + self.assignar.calls("PUT", "/v2")


@contextmanager
def emulated_tenant(
    folder: Path, *, profile: CompanyProfile = STANDARD, employees: int = 30, seed: int = 9
) -> Iterator[Tenant]:
    store = IntacctStore(timezone=ZONE, profile=profile)
    generate_company(store, employees=employees, seed=seed)
    with IntacctEmulator(store) as gateway, AssignarEmulator(seed=seed) as assignar:
        owner = assignar.seed("users", {"user_type_id": 2, "first_name": "Olive", "last_name": "Owner"})
        config = folder / "tenant.toml"
        config.write_text(f'timezone = "{ZONE}"\n\n[workflows.work_orders]\nowner_user_id = {owner["id"]}\n')
        # Wide enough that tables and sentences are not wrapped in what the tests read.
        env = gateway.settings_env() | assignar.settings_env() | {"COLUMNS": "200"}
        yield Tenant(env, config, folder / "state.db", store, gateway, assignar)
