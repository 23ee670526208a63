"""A scan as SARIF 2.1.0 for GitHub code scanning (pure): one rule per bulk signal."""

from pathlib import PurePosixPath
from urllib.parse import quote

from bot.core.names import HANDBOOK_URL, PROJECT_URL, SIGNAL_HELP, SIGNAL_RESULT, SIGNAL_RULES
from bot.scan.model import BULK_SIGNALS

VERSION = "2.1.0"
SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
RULES = BULK_SIGNALS  # each has its SIGNAL_RULES entry


def _rule(signal: str, handbook: str) -> dict:
    name, short, detail = SIGNAL_RULES[signal]
    return {
        "id": signal,
        "name": name,
        "shortDescription": {"text": short},
        "fullDescription": {"text": detail},
        "help": {"text": f"{detail} {SIGNAL_HELP} See {handbook}",
                 "markdown": f"{detail} {SIGNAL_HELP} See [the norm]({handbook})."},
        "helpUri": handbook,
        "defaultConfiguration": {"level": "note"},
        "properties": {"tags": ["batch-review", "cost"], "precision": "medium"},
    }


def _location(path: str, line=None) -> dict:
    physical = {"artifactLocation": {"uri": _uri(path)}}
    if line:
        physical["region"] = {"startLine": line}
    return {"physicalLocation": physical}


def _uri(path: str) -> str:
    """A relative path stays relative (code scanning reads it from the checkout); an absolute one is file://."""
    posix = PurePosixPath(path)
    return f"file://{quote(str(posix))}" if posix.is_absolute() else quote(str(posix))


def _results(call) -> list:
    results = []
    for signal in call.signals:
        if call.batched or signal.id not in RULES:  # already-batched is no finding
            continue
        result = {"ruleId": signal.id, "ruleIndex": RULES.index(signal.id), "level": "note",
                  "message": {"text": SIGNAL_RESULT.format(api=call.api, evidence=signal.description)},
                  "locations": [_location(call.path, call.line)]}
        if signal.line and (signal.line != call.line or signal.path):
            result["relatedLocations"] = [{"id": 1, **_location(signal.path or call.path, signal.line),
                                           "message": {"text": signal.description}}]
        results.append(result)
    return results


def sarif(calls, notes, version: str, handbook: str = HANDBOOK_URL) -> dict:
    """The SARIF log of a scan: a result per bulk signal of each synchronous call, at the call's file and line;
    the scan's notes (test files, files not read) as notifications."""
    return {
        "$schema": SCHEMA,
        "version": VERSION,
        "runs": [{
            "tool": {"driver": {"name": "batch-review", "version": version, "informationUri": PROJECT_URL,
                                "rules": [_rule(signal, handbook) for signal in RULES]}},
            "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": [
                {"level": "note", "message": {"text": note.text}, "locations": [_location(note.path)]}
                for note in notes]}],
            "results": [result for call in calls for result in _results(call)],
        }],
    }
