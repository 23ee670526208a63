"""This installation's version: the package metadata, else pyproject.toml beside a checkout."""

import re
from importlib import metadata
from pathlib import Path

from bot.core.names import DISTRIBUTION

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # run from a source tree on PYTHONPATH
        found = re.search(r'(?m)^version = "([^"]+)"', PYPROJECT.read_text()) if PYPROJECT.is_file() else None
        return found.group(1) if found else "0+unknown"


def major_tag(text: str) -> str:
    """The tag that follows a major version's releases: 1.4.2 -> v1."""
    return f"v{text.split('.')[0]}"
