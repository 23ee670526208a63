"""Exemptions belong to the workload: each PR's entry, the standing exemption per path, and what a later PR inherits."""

from datetime import date

from bot.core.commands import Exemption
from bot.core.exemptions import Standing, entry, inherited, standing

TODAY = date(2026, 11, 14)


def kept(number, until, paths=("jobs/enrich.py",), by="carol", reason="launch week"):
    return {"by": by, "reason": reason, "until": until, "url": f"https://github.com/o/r/pull/{number}#c",
            "paths": list(paths), "number": number}


def test_a_prs_own_exemption_is_kept_running_or_lapsed_but_not_refused_or_inherited():
    own = Exemption("carol", "launch week", "2026-12-01", "u", "active", ("jobs/enrich.py",))
    assert entry(own, 7) == {"by": "carol", "reason": "launch week", "until": "2026-12-01", "url": "u",
                             "paths": ["jobs/enrich.py"], "number": 7}
    assert entry(Exemption("carol", "", "2026-10-01", "u", "lapsed"), 7)["paths"] == []
    assert entry(Exemption("carol", "", "2027-12-01", "u", "too-long"), 7) is None
    assert entry(Exemption("carol", "", "2026-12-01", "u", "active", ("a.py",), number=3), 7) is None
    assert entry(None, 7) is None


def test_per_path_the_longest_exemption_stands_and_names_everyone_who_asked_for_that_day():
    found = standing("o/r", [kept(1, "2026-12-01"), kept(2, "2026-12-20", by="dan", reason="later"),
                             kept(3, "2026-12-20", paths=("jobs/enrich.py", "docs/d.md"), by="erin"),
                             kept(4, "2026-11-01", paths=()), kept(5, "2026-11-02", paths=()),
                             {}, {"by": "x", "until": "not a date", "number": 1}, {"by": "x", "until": "2026-12-01"},
                             None, kept(6, "2026-12-01", paths=(3,))])  # withdrawn and damaged entries are skipped
    assert [(s.path, s.by, s.until, s.numbers, s.workload) for s in found] == [
        ("", ("carol",), "2026-11-01", (4,), "#4"), ("", ("carol",), "2026-11-02", (5,), "#5"),
        ("docs/d.md", ("erin",), "2026-12-20", (3,), "docs/d.md"),
        ("jobs/enrich.py", ("dan", "erin"), "2026-12-20", (2, 3), "jobs/enrich.py")]
    assert found[3].reason == "later" and found[3].active(date(2026, 12, 20)) and not found[3].active(date(2026, 12, 21))


def test_a_later_pr_changing_the_path_inherits_a_running_exemption_else_hears_of_a_recent_lapse():
    running = Standing("o/r", "jobs/enrich.py", ("carol",), "launch", "2026-12-01", "u1", (7,))
    ended = Standing("o/r", "jobs/tag.py", ("dan", "erin"), "demo", "2026-11-01", "u2", (8,))
    old = Standing("o/r", "jobs/old.py", ("dan",), "", "2026-06-01", "u3", (9,))
    checklist = Standing("o/r", "", ("dan",), "", "2026-12-01", "u4", (10,))
    everything = (running, ended, old, checklist)
    got = inherited(everything, ["jobs/tag.py", "jobs/enrich.py", "README.md"], 12, TODAY, 90)
    assert got == Exemption("carol", "launch", "2026-12-01", "u1", "active", ("jobs/enrich.py",), 7)
    got = inherited(everything, ["jobs/tag.py"], 12, TODAY, 90)
    assert (got.by, got.state, got.paths, got.number) == ("dan, erin", "lapsed", ("jobs/tag.py",), 8)
    assert inherited(everything, ["jobs/tag.py"], 12, TODAY, 10) is None  # ended more than 10 days ago
    assert inherited(everything, ["jobs/old.py", "x.py"], 12, TODAY, 90) is None
    assert inherited(everything, ["jobs/enrich.py"], 7, TODAY, 90) is None  # its own PR: the comments decide
    assert inherited(everything, [], 10, TODAY, 90) is None  # a checklist's exemption stays with its PR
