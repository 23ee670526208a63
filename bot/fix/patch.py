"""One file: its flagged loops moved onto run_batch, or refused with a reason and a snippet."""

from __future__ import annotations

from collections import defaultdict
from typing import Optional

import libcst as cst

from bot.fix import model
from bot.fix.find import LOOP_SIGNALS, Finder, Site
from bot.fix.rewrite import rewrite
from bot.fix.snippet import shown, snippet


def loops(calls) -> dict:
    """Loop line -> (call, signal id) for each synchronous call flagged inside a loop of its own file."""
    found = defaultdict(list)
    for call in calls:
        if not call.batched:
            for signal in call.signals:
                if signal.id in LOOP_SIGNALS and signal.path is None and signal.line:
                    found[signal.line].append((call, signal.id))
    return dict(sorted(found.items()))


def fix_file(path: str, text: Optional[str], calls, helper_import: str = model.DEFAULT_HELPER_IMPORT) -> model.FileFix:
    """The file rewritten for every loop that can move safely; a Refusal for each one that cannot.

    `text` is None when the file is not UTF-8.
    """
    flagged = loops(calls)
    if not flagged:
        return model.FileFix(path, text, text)
    try:
        finder = Finder(text, path) if text is not None else None
        problem = "not UTF-8"
    except cst.ParserSyntaxError as error:
        finder, problem = None, str(error).splitlines()[0]
    if finder is None:
        reason = model.UNPARSED.format(problem)
        return model.FileFix(path, text, text, refusals=tuple(
            model.Refusal(path, line, reason, snippet(Site(line, model.job_name(path, None)), None, helper_import))
            for line in flagged))
    sites, refusals = [], []

    def refuse(site: Site, reason: str) -> None:
        refusals.append(model.Refusal(path, site.line, reason, snippet(site, finder, helper_import)))

    jobs = set()
    for line, found in flagged.items():
        call, signal_id = found[0]
        site, reason = finder.site(call.line, signal_id, line)
        if len({c.line for c, _ in found}) > 1:
            reason = model.SHAPE.format(f"{len(found)} calls to Claude in one loop")
        elif call.api != "messages.create":
            reason = model.NOT_CREATE.format(call.api)
        if reason:
            refuse(site, reason)
            continue
        name, number = site.job, 1
        while site.job in jobs:  # two loops of one function: one job each
            number += 1
            site.job = f"{name}-{number}"
        jobs.add(site.job)
        sites.append(site)
    after = rewrite(finder.module, sites, helper_import).code if sites else text
    rewrites = tuple(model.Rewrite(path, s.line, s.job) for s in sites)
    return model.FileFix(path, text, after, rewrites, tuple(sorted(refusals, key=lambda r: r.line)))


def render(fixes, applied: bool = False) -> str:
    """The terminal output of `scan --fix`: the diffs, then each refusal with its reason and snippet."""
    parts = [fix.diff for fix in fixes]
    for refusal in (r for fix in fixes for r in fix.refusals):
        parts.append(f"{refusal.path}:{refusal.line}: no ready change: {refusal.reason}. "
                     f"A batched version to adapt:\n\n{shown(refusal.snippet)}\n")
    done, refused = sum(len(f.rewrites) for f in fixes), sum(len(f.refusals) for f in fixes)
    files = sum(1 for f in fixes if f.rewrites)
    verb = "written to" if applied else "in"
    parts.append(f"{done} loop{'s' * (done != 1)} moved onto run_batch ({verb} {files} file{'s' * (files != 1)}), "
                 f"{refused} left as {'they are' if refused != 1 else 'it is'}.\n")
    return "".join(parts)
