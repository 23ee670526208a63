"""The one encoder and decoder of a scan's compact state (comment and store)."""

from __future__ import annotations

from typing import Optional

from bot.scan.model import Call, Dismissal, Hygiene, Note, ScanResult, Signal

# --- Remembered per head SHA (the Action's hidden comment block, the App's store) -----------------

CACHE_VERSION = 3
STORE_KIND = "scan"  # the App store's cache kind for these values
CACHED_CALLS = 50  # the comment shows fewer; the ones that make the PR a workload come first


def to_cache(result: ScanResult, head_sha: str) -> dict:
    """A compact JSON-able value: {"v", "sha", "partial", "calls": [[path, line, api, flags, signals, model,
    max_tokens, dismissed]], "notes", "hygiene": [[path, line, rule, message]]} (hygiene on changed lines only).

    flags: "b" batched, "c" changed; a signal is [id, line, changed 0/1, description, other path or null];
    a dismissal is [signal or null, line or null, reason].
    """
    ranked = sorted(result.calls, key=lambda c: (not (c.new and not c.batched), c.path, c.line))[:CACHED_CALLS]
    return {
        "v": CACHE_VERSION,
        "sha": head_sha,
        "partial": result.partial,
        "calls": [[c.path, c.line, c.api, "b" * c.batched + "c" * c.changed,
                   [[s.id, s.line, int(s.changed), s.description, s.path] for s in c.signals], c.model, c.max_tokens,
                   [[d.signal, d.line, d.reason] for d in c.dismissed]]
                  for c in ranked],
        "notes": [[n.path, n.text] for n in result.notes[:CACHED_CALLS]],
        "hygiene": [[h.path, h.line, h.rule, h.message] for h in result.hygiene if h.changed][:CACHED_CALLS],
    }


def from_cache(value, head_sha: str) -> Optional[ScanResult]:
    """The remembered scan for this head SHA, or None (another SHA, another version, or unreadable)."""
    try:
        if value["v"] != CACHE_VERSION or value["sha"] != head_sha:
            return None
        calls = tuple(Call(path, int(line), api, tuple(Signal(sid, desc, at, bool(ch), other)
                                                       for sid, at, ch, desc, other in signals),
                           "b" in flags, "c" in flags, model if isinstance(model, str) else None,
                           max_tokens if type(max_tokens) is int else None,
                           tuple(Dismissal(signal, reason, at) for signal, at, reason in dismissed))
                      for path, line, api, flags, signals, model, max_tokens, dismissed in value["calls"])
        notes = tuple(Note(path, text) for path, text in value["notes"])
        hygiene = tuple(Hygiene(path, int(line), rule, message, True) for path, line, rule, message in value["hygiene"])
        return ScanResult(tuple(sorted(calls, key=lambda c: (c.path, c.line, c.api))), notes, bool(value["partial"]),
                          hygiene)
    except (KeyError, TypeError, ValueError):
        return None
