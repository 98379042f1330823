"""The configuration example in the README is a document the product accepts, key for key."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from intacct_assignar.config import parse_config

README = Path(__file__).resolve().parents[3] / "README.md"


def test_the_readme_configuration_example_parses() -> None:
    # Given the README's TOML block
    blocks = re.findall(r"```toml\n(.*?)```", README.read_text(), flags=re.DOTALL)
    assert blocks, "the README shows a configuration example"

    # When it is read as the product reads a tenant document
    config = parse_config(tomllib.loads(blocks[0]), "README.md")

    # Then the values shown are the values used
    assert config.timezone == "America/Denver"
    assert config.workflows.work_orders.owner_user_id == 12
    assert config.workflows.workers.position_roles == {"FOREMAN": "LAB-FOREMAN"}
