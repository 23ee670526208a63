"""Shared test helpers: paths to the project's and the team's shared fixtures."""

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Real third-party material, copied from the team's shared fixtures with its origin (README.md there).
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def load_schema(name: str) -> dict:
    return json.loads((ROOT / "bot" / "schemas" / name).read_text())
