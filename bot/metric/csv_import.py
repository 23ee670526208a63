"""Usage rows from a CSV export, for months the Admin usage report does not cover."""

from __future__ import annotations

import csv
import io
from datetime import date

from bot.metric.compute import CSV, Usage

CSV_REQUIRED = ("date", "service_tier", "uncached_input_tokens", "cache_creation_tokens", "cache_read_tokens",
                "output_tokens")
CSV_OPTIONAL = ("api_key_id", "workspace_id", "model")
_CSV_TOKENS = {"uncached_input_tokens": "uncached_input", "cache_creation_tokens": "cache_creation_5m",
               "cache_read_tokens": "cache_read", "output_tokens": "output"}


class CsvError(ValueError):
    """The CSV cannot be imported as it is; the message lists every problem found (nothing was imported)."""


def parse_csv(text: str, max_problems: int = 10) -> list:
    """A usage CSV (one row per day, tier and optionally key, workspace and model) -> Usage rows.

    The columns are those of the Usage & Cost cookbook's export: `date` (YYYY-MM-DD),
    `service_tier`, `uncached_input_tokens`, `cache_creation_tokens`, `cache_read_tokens`,
    `output_tokens`, and optionally `api_key_id`, `workspace_id`, `model`; others are ignored.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [name for name in CSV_REQUIRED if name not in (reader.fieldnames or ())]
    if missing:
        raise CsvError(f"the CSV lacks the column(s) {', '.join(missing)}; it needs "
                       f"{', '.join(CSV_REQUIRED)} (and may have {', '.join(CSV_OPTIONAL)})")
    rows, problems = [], []
    for line, record in enumerate(reader, start=2):
        try:
            rows.append(_csv_row(record))
        except ValueError as error:
            problems.append(f"line {line}: {error}")
    if problems:
        more = f" (and {len(problems) - max_problems} more)" if len(problems) > max_problems else ""
        raise CsvError("nothing was imported: " + "; ".join(problems[:max_problems]) + more)
    return rows


def _csv_row(record: dict) -> Usage:
    try:
        day = date.fromisoformat((record["date"] or "").strip()[:10])
    except ValueError:
        raise ValueError(f"date {record['date']!r} is not YYYY-MM-DD") from None
    counts = {}
    for column, name in _CSV_TOKENS.items():
        value = (record[column] or "0").strip()
        if not value.isdigit():
            raise ValueError(f"{column} {value!r} is not a whole number of tokens")
        counts[name] = int(value)
    extra = {name: (record.get(name) or "").strip() for name in CSV_OPTIONAL}
    return Usage(day, (record["service_tier"] or "").strip(), **counts, **extra, source=CSV)
