"""Input files for the commands: decoded as their BOM says, a warning on bad bytes."""

import sys
from pathlib import Path

from bot.core.textfile import decode


def read_input(name: str) -> str:
    """A file's text (`-`: standard input), decoded as its BOM says, else UTF-8 with a warning on bad bytes."""
    data = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
    text, warning = decode(data, "standard input" if name == "-" else name)
    if warning:
        print(f"batch-review: warning: {warning}", file=sys.stderr)
    return text
