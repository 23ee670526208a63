"""Shared test helpers: paths to the project's and the team's shared fixtures."""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "fixtures"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def shared_fixture(relative: str) -> Path:
    """A file from ../shared/fixtures, or a skip that says where it should be."""
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"shared fixture {path} is not on this machine")
    return path


def load_schema(name: str) -> dict:
    return json.loads((ROOT / "bot" / "schemas" / name).read_text())
