"""An input file's bytes to text (pure): a BOM says the encoding, else UTF-8."""

import codecs
from typing import Optional

from bot.core.names import INPUT_NOTES

# UTF-32's little-endian BOM starts with UTF-16's, so it is tried first; each codec drops its BOM.
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
SNIFF = 8192  # a NUL byte in the first bytes makes a file binary, as git decides


class BinaryFile(ValueError):
    """The input is not text."""


def decode(data: bytes, name: str) -> tuple:
    """(text, warning or None); raises BinaryFile for a binary file."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return _decoded(data, codec, name)
    if b"\0" in data[:SNIFF]:
        raise BinaryFile(INPUT_NOTES["binary"].format(name=name))
    return _decoded(data, "utf-8", name)


def _decoded(data: bytes, codec: str, name: str) -> tuple:
    try:
        return data.decode(codec), None
    except UnicodeDecodeError as error:
        warning: Optional[str] = INPUT_NOTES["invalid"].format(name=name, codec=codec.upper().replace("-SIG", ""),
                                                               offset=error.start)
        return data.decode(codec, errors="replace"), warning
