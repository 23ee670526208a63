"""This installation's version: pyproject.toml in a checkout, else the package metadata."""

import re
from importlib import metadata
from pathlib import Path

from bot.core.names import DISTRIBUTION

# Beside the package only in a checkout (an editable install's metadata keeps the version it was installed with).
PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def version() -> str:
    found = re.search(r'(?m)^version = "([^"]+)"', PYPROJECT.read_text()) if PYPROJECT.is_file() else None
    if found:
        return found.group(1)
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "0+unknown"


def major_tag(text: str) -> str:
    """The tag that follows a major version's releases: 1.4.2 -> v1."""
    return f"v{text.split('.')[0]}"
