"""The metric's pure core: sources, tiers, shares, money, periods, movement, funnel, repositories, notes, chart, CSV."""

from datetime import date, datetime, timezone

import pytest

from bot.core.codeowners import NOBODY
from bot.core.cost import PRICES_READ, Price, dollars
from bot.core.exemptions import Standing
from bot.core.names import ADOPTED_LABEL
from bot.metric import compute as metric
from bot.metric import csv_import
from bot.metric import format as fmt
from bot.metric import view
from bot.metric.compute import (
    ADMIN,
    CSV,
    HELPER,
    Facts,
    Flag,
    Accounting,
    Usage,
    adopted,
    compute,
    cost,
    money_left,
    movement,
    select_sources,
    volume,
)
from bot.metric.csv_import import parse_csv

TODAY = date(2026, 11, 14)
SETTINGS = Accounting(eligible=frozenset({"apikey_batchy", "wrkspc_jobs"}),
                    prices={"claude-sonnet-4": {"input": 3, "output": 15}, "claude-sonnet-4-5": {"input": 4, "output": 20},
                            "claude-haiku": {"input": 1, "output": 5}},
                    repos={"apikey_batchy": "acme/enrichment", "wrkspc_jobs": "acme/jobs"})


def use(day, tier, tokens=100, *, key="apikey_batchy", workspace="", model="claude-haiku-4-5", source=ADMIN, **parts):
    """A row of `tokens` output tokens (or the given parts)."""
    counts = parts or {"output": tokens}
    return Usage(day, tier, api_key_id=key, workspace_id=workspace, model=model, source=source, **counts)


def at(day, hour=12):
    return datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc)


# --- rows, tiers, volume -----------------------------------------------------------------------

def test_tokens_are_input_cache_creation_cache_reads_and_output():
    row = Usage(TODAY, "batch", uncached_input=1, cache_creation_5m=20, cache_creation_1h=300, cache_read=4000,
                output=50000)
    assert row.tokens == 54321


@pytest.mark.parametrize("reported, tier", [("batch", "batch"), ("standard", "standard"), ("priority", "priority"),
                                            ("flex", "other"), ("", "other"), ("other", "other"), ("Batch", "other")])
def test_tiers_this_version_does_not_know_are_other(reported, tier):
    assert use(TODAY, reported).tier == tier


def test_volume_counts_every_tier_and_names_the_unknown_ones():
    rows = [use(TODAY, "batch", 30), use(TODAY, "standard", 50), use(TODAY, "priority", 10), use(TODAY, "flex", 6),
            use(TODAY, "", 4)]
    totals = volume(rows)
    assert (totals.batch, totals.standard, totals.priority, totals.other, totals.total) == (30, 50, 10, 10, 100)
    assert totals.synchronous == 60 and totals.share == 0.3 and totals.other_tiers == ("(none)", "flex")
    assert volume([]).share is None


def test_eligible_by_api_key_or_workspace_and_helper_jobs_always():
    assert SETTINGS.is_eligible(use(TODAY, "standard", key="apikey_batchy"))
    assert SETTINGS.is_eligible(use(TODAY, "standard", key="apikey_other", workspace="wrkspc_jobs"))
    assert not SETTINGS.is_eligible(use(TODAY, "standard", key="apikey_chat", workspace="wrkspc_chat"))
    assert not SETTINGS.is_eligible(use(TODAY, "standard", key="", workspace=""))
    assert SETTINGS.is_eligible(Usage(TODAY, "batch", output=1, source=HELPER, origin="job"))


# --- sources ---------------------------------------------------------------------------------

def test_the_admin_report_wins_its_months_and_partial_sources_fill_the_others():
    oct_, sep, aug = date(2026, 10, 5), date(2026, 9, 5), date(2026, 8, 5)
    rows = [use(oct_, "batch", source=ADMIN), use(oct_, "standard", source=CSV), use(oct_, "batch", source=HELPER),
            use(sep, "standard", source=CSV), use(sep, "batch", source=HELPER),
            use(aug, "standard", source=CSV), use(aug, "batch", source=HELPER)]
    kept = select_sources(rows, {"2026-10", "2026-08"})  # August was fetched and was empty
    assert [(row.day.month, row.source) for row in kept] == [(10, ADMIN), (9, CSV), (9, HELPER)]
    assert select_sources([use(sep, "batch", source=ADMIN), use(sep, "standard", source=CSV)], ()) == [
        use(sep, "batch", source=ADMIN)]  # a month holding the report's rows is covered by it


def test_helper_jobs_are_not_counted_twice_when_the_csv_holds_the_batch_tier():
    sep = date(2026, 9, 5)
    rows = [use(sep, "batch", source=CSV), use(sep, "batch", source=HELPER), use(date(2026, 8, 5), "batch", source=HELPER)]
    assert [(row.day.month, row.source) for row in select_sources(rows, ())] == [(9, CSV), (8, HELPER)]


# --- money -----------------------------------------------------------------------------------

def test_cost_prices_cache_writes_and_reads_relative_to_input():
    row = Usage(TODAY, "standard", uncached_input=1_000_000, cache_creation_5m=1_000_000, cache_creation_1h=1_000_000,
                cache_read=1_000_000, output=1_000_000)
    assert cost(row, Price(2, 10, "test")) == pytest.approx(2 + 2.5 + 4 + 0.2 + 10)


def test_prices_match_exactly_else_by_the_longest_prefix():
    assert SETTINGS.price("claude-sonnet-4-5") == (4, 20, "cost.prices")
    assert SETTINGS.price("claude-sonnet-4-5-20250929") == (4, 20, "cost.prices")
    assert SETTINGS.price("claude-sonnet-4-20250514") == (3, 15, "cost.prices")
    assert SETTINGS.price("claude-opus-4-1") is None and SETTINGS.price("") is None
    # the project's one price table: what the config does not name, the built-in prices do
    assert SETTINGS.price("claude-opus-5-5") == (4, 20, PRICES_READ)


def test_money_left_is_half_the_eligible_synchronous_price_and_names_unpriced_models():
    rows = [use(TODAY, "standard", 2_000_000, model="claude-haiku-4-5"),  # $10 at output 5: $5 left
            use(TODAY, "priority", 1_000_000, model="claude-sonnet-4-5"),  # $20: $10 left
            use(TODAY, "batch", 9_000_000, model="claude-haiku-4-5"),  # already batched
            use(TODAY, "standard", 9_000_000, key="apikey_chat"),  # not eligible
            use(TODAY, "standard", 700, model="claude-opus-4-1"), use(TODAY, "standard", 300, model="")]
    dollars, unpriced = money_left(rows, SETTINGS)
    assert dollars == pytest.approx(15.0)
    assert unpriced == (("claude-opus-4-1", 700), ("(model not reported)", 300))


# --- periods, weeks, movement ----------------------------------------------------------------

def test_months_and_weeks_add_up_and_say_partial_and_to_date():
    rows = [use(date(2026, 10, 1), "batch", 60), use(date(2026, 10, 31), "standard", 40),
            use(date(2026, 11, 2), "batch", 10, source=CSV), use(date(2026, 11, 3), "standard", 30, source=CSV),
            use(date(2026, 11, 3), "standard", 1000, key="apikey_chat", source=CSV)]
    figures = compute(rows, SETTINGS, today=TODAY, admin_months={"2026-10"})
    oct_ = next(p for p in figures.months if p.key == "2026-10")
    nov = next(p for p in figures.months if p.key == "2026-11")
    assert figures.focus is oct_ and oct_.eligible.share == 0.6 and not oct_.partial and not oct_.to_date
    assert nov.eligible.share == 0.25 and nov.overall.share == pytest.approx(10 / 1040) and nov.partial and nov.to_date
    assert nov.sources == (CSV,) and oct_.sources == (ADMIN,)
    assert [p.key for p in figures.months][-2:] == ["2026-10", "2026-11"] and len(figures.months) == 12
    assert [p.key for p in figures.weeks] == [f"2026-W{week}" for week in range(39, 47)]
    week45 = next(p for p in figures.weeks if p.key == "2026-W45")  # Monday 2 November
    assert week45.start == date(2026, 11, 2) and week45.label == "week of 2 Nov" and week45.eligible.total == 40
    assert next(p for p in figures.weeks if p.key == "2026-W44").eligible.total == 40  # 26 Oct - 1 Nov
    empty = next(p for p in figures.months if p.key == "2026-05")
    assert not empty.has_data and empty.eligible.share is None and not empty.partial


def test_weeks_are_iso_weeks_across_a_year_end():
    figures = compute([], SETTINGS, today=date(2027, 1, 6), weeks=3)
    assert [(p.key, p.start) for p in figures.weeks] == [
        ("2026-W52", date(2026, 12, 21)), ("2026-W53", date(2026, 12, 28)), ("2027-W01", date(2027, 1, 4))]


def months_of(*shares):
    """Periods for consecutive months with the given eligible shares (None: no data)."""
    rows = []
    for index, share in enumerate(shares):
        day = date(2026, index + 1, 10)
        if share is not None:
            rows += [use(day, "batch", round(share * 10_000)), use(day, "standard", 10_000 - round(share * 10_000))]
    return [metric.month_period(date(2026, index + 1, 1), rows, SETTINGS, TODAY) for index in range(len(shares))]


@pytest.mark.parametrize("before, after, direction", [(0.40, 0.489, "up"), (0.50, 0.40, "down"), (0.50, 0.5, "steady"),
                                                      (0.5, 0.501, "up"), (0.5, 0.4999, "steady")])
def test_movement_says_up_down_or_steady(before, after, direction):
    first, second = months_of(before, after)
    moved = movement(first, second)
    assert moved.direction == direction and moved.points == pytest.approx(100 * (after - before), abs=0.2)


def test_no_movement_without_two_shares():
    first, second = months_of(None, 0.5)
    assert movement(first, second) is None and movement(None, second) is None


def test_the_focus_and_the_range_of_months_can_be_chosen():
    figures = compute([], SETTINGS, today=TODAY, focus=date(2026, 3, 1), through=date(2026, 3, 1), months=4)
    assert [p.key for p in figures.months] == ["2025-12", "2026-01", "2026-02", "2026-03"]
    assert figures.focus.key == "2026-03" and figures.weeks[-1].start == date(2026, 3, 30)
    old = compute([], SETTINGS, today=TODAY, focus=date(2025, 1, 1), months=2)
    assert old.months[0].key == "2024-12" and old.months[-1].key == "2026-11"


def test_parse_month_explains_the_format():
    assert metric.parse_month("2026-10") == date(2026, 10, 1)
    for bad in ("2026-13", "Oct 2026", "2026/10", ""):
        with pytest.raises(ValueError, match="YYYY-MM"):
            metric.parse_month(bad)


# --- funnel ------------------------------------------------------------------------------------

OCT1, OCT2, NOV1 = date(2026, 10, 1), date(2026, 10, 2), date(2026, 11, 1)


def test_a_reviewer_label_adopts_the_flagged_pr():
    flags = [Flag("o/a", 1, at(OCT1)), Flag("o/a", 2, at(OCT1))]
    assert adopted(flags, [Facts("o/a", 2, (ADOPTED_LABEL,)), Facts("o/a", 1, ("batch/candidate",))]) == {("o/a", 2)}


def test_the_flagged_pr_itself_bringing_in_batches_adopts_itself():
    flags = [Flag("o/a", 1, at(OCT1)), Flag("o/a", 2, at(OCT2))]
    assert adopted(flags, [Facts("o/a", 2, batched_at=at(OCT2, 15))]) == {("o/a", 2)}


def test_a_later_pr_on_the_same_repository_adopts_the_earliest_flagged_workload():
    flags = [Flag("o/a", 1, at(OCT1)), Flag("o/a", 2, at(OCT2)), Flag("o/b", 3, at(OCT1))]
    facts = [Facts("o/a", 9, batched_at=at(NOV1))]
    assert adopted(flags, facts) == {("o/a", 1)}
    facts.append(Facts("o/a", 10, batched_at=at(NOV1, 13)))  # a second batched PR adopts the next one
    assert adopted(flags, facts) == {("o/a", 1), ("o/a", 2)}
    facts.append(Facts("o/a", 11, batched_at=at(NOV1, 14)))  # nothing left to adopt on o/a; o/b is another repo
    assert adopted(flags, facts) == {("o/a", 1), ("o/a", 2)}


def test_batches_brought_in_before_the_flag_adopt_nothing():
    flags = [Flag("o/a", 2, at(OCT2))]
    assert adopted(flags, [Facts("o/a", 1, batched_at=at(OCT1)), Facts("o/a", 2, batched_at=at(OCT1))]) == set()


def test_a_labelled_pr_that_also_brings_in_batches_is_one_adoption():
    flags = [Flag("o/a", 1, at(OCT1)), Flag("o/a", 2, at(OCT2))]
    facts = [Facts("o/a", 1, (ADOPTED_LABEL,), batched_at=at(OCT2, 18))]
    assert adopted(flags, facts) == {("o/a", 1)}


def test_labels_on_prs_never_flagged_count_for_nothing():
    assert adopted([], [Facts("o/a", 1, (ADOPTED_LABEL,)), Facts("o/a", 2, batched_at=at(OCT1))]) == set()


def test_the_funnel_counts_each_month_flagged_and_adopted_since():
    flags = [Flag("o/a", 1, at(date(2026, 9, 30), 23)), Flag("o/a", 2, at(OCT1)), Flag("o/b", 3, at(OCT2)),
             Flag("o/b", 4, at(date(2026, 10, 31), 23))]
    facts = [Facts("o/a", 1, (ADOPTED_LABEL,)), Facts("o/b", 8, batched_at=at(NOV1))]
    figures = compute([], SETTINGS, today=TODAY, flags=flags, facts=facts)
    by_month = {f.month: (f.flagged, f.adopted) for f in figures.funnel}
    assert by_month["2026-09"] == (1, 1) and by_month["2026-10"] == (3, 1) and by_month["2026-11"] == (0, 0)
    oct_ = next(f for f in figures.funnel if f.month == "2026-10")
    assert oct_.rate == pytest.approx(1 / 3) and next(f for f in figures.funnel if f.month == "2026-11").rate is None


def test_the_funnel_sums_the_dollars_flagged_each_month():
    flags = [Flag("o/a", 1, at(OCT1), usd_month=210.0), Flag("o/b", 2, at(OCT2), usd_month=52.5),
             Flag("o/b", 3, at(OCT2)), Flag("o/c", 4, at(date(2026, 9, 30), 23), usd_month=10.0)]
    figures = compute([], SETTINGS, today=TODAY, flags=flags)
    by_month = {f.month: f.dollars for f in figures.funnel}
    assert by_month["2026-10"] == pytest.approx(262.5) and by_month["2026-09"] == 10 and by_month["2026-11"] == 0
    report = view.report(figures)
    assert "| dollars flagged |" in report and "| $262 a month |" in report
    assert "<th>Dollars flagged</th>" in view.dashboard(figures, generated_at=datetime(2026, 11, 14, 9))


# --- repositories ----------------------------------------------------------------------------

def test_repositories_with_the_most_eligible_synchronous_volume():
    oct_ = date(2026, 10, 9)
    rows = [use(oct_, "standard", 5_000_000, key="apikey_batchy"),
            use(oct_, "standard", 1_000_000, key="apikey_unnamed", workspace="wrkspc_jobs"),  # named by its workspace
            use(oct_, "standard", 2_000_000, key="apikey_loose", workspace="wrkspc_jobs2"),  # eligible? no
            use(oct_, "priority", 3_000_000, key="apikey_loose2", workspace="wrkspc_jobs"),
            use(oct_, "batch", 9_000_000, key="apikey_batchy"),
            use(date(2026, 9, 9), "standard", 9_000_000, key="apikey_batchy")]
    settings = Accounting(eligible=SETTINGS.eligible | {"apikey_unmapped"}, prices=SETTINGS.prices,
                        repos=SETTINGS.repos)
    rows.append(use(oct_, "standard", 500, key="apikey_unmapped"))
    figures = compute(rows, settings, today=TODAY, flags=[Flag("acme/jobs", 5, at(OCT1))])
    assert [(r.name, r.mapped, r.tokens, r.open_candidates) for r in figures.repos] == [
        ("acme/enrichment", True, 5_000_000, 0), ("acme/jobs", True, 4_000_000, 1), ("apikey_unmapped", False, 500, 0)]
    assert figures.repos[0].money_left == pytest.approx(12.5)  # haiku output $5/MTok, halved
    assert any("not per repository" in note for note in figures.notes)


# --- notes -----------------------------------------------------------------------------------

def test_notes_say_plainly_what_the_figures_cannot():
    rows = [use(date(2026, 9, 3), "standard", source=CSV), Usage(date(2026, 9, 4), "batch", output=5, source=HELPER),
            use(date(2026, 10, 3), "flex"), use(date(2026, 10, 3), "standard", model="claude-opus-4-1")]
    notes = " ".join(compute(rows, SETTINGS, today=TODAY, admin_months={"2026-10"}).notes)
    assert "Partial figures (Sep 2026)" in notes and "Helper jobs count as eligible batch volume" in notes
    assert "(flex) are counted in the \"other\" row" in notes and "No price is known for claude-opus-4-1" in notes and "cost.prices" in notes
    none = " ".join(compute([], Accounting(), today=TODAY).notes)
    assert "metric.eligible names no API key or workspace" in none and "No usage is stored for Oct 2026" in none
    clean = compute([use(date(2026, 10, 3), "batch")], SETTINGS, today=TODAY, admin_months={"2026-10"}).notes
    assert clean == ()


# --- chart -----------------------------------------------------------------------------------

def test_the_chart_breaks_its_line_where_a_month_has_no_share():
    periods = months_of(0.1, None, 0.5, 1.0)
    drawn = fmt.chart(periods, width=400, height=200)
    assert [[point.share for point in segment] for segment in drawn.eligible] == [[10.0], [50.0, 100.0]]
    top, bottom = drawn.top, drawn.top + drawn.plot_height
    assert drawn.eligible[1][1].y == top and all(top <= p.y <= bottom for s in drawn.eligible for p in s)
    assert [x for x, _ in drawn.ticks] == sorted(x for x, _ in drawn.ticks) and drawn.ticks[0][1] == "Jan 26"
    assert [label for _, label in drawn.grid] == ["0%", "25%", "50%", "75%", "100%"]


def test_formats():
    assert (fmt.percent(None), fmt.percent(0.4891)) == ("n/a", "48.9%")
    assert [fmt.tokens(n) for n in (999, 1500, 2_340_000, 7_000_000_000)] == ["999", "1.5k", "2.3M", "7.0B"]
    assert (dollars(3.456), dollars(1234.5)) == ("$3.46", "$1,234")


# --- CSV -------------------------------------------------------------------------------------

def test_the_cookbook_export_columns_parse_with_a_bom_and_extra_columns():
    text = ("\ufeffdate,model,service_tier,workspace_id,uncached_input_tokens,output_tokens,cache_creation_tokens,"
            "cache_read_tokens,web_search_requests\n2026-10-01,claude-haiku-4-5,batch,wrkspc_jobs,1,2,3,4,9\n")
    (row,) = parse_csv(text)
    assert (row.day, row.service_tier, row.workspace_id, row.api_key_id, row.tokens, row.source) == (
        date(2026, 10, 1), "batch", "wrkspc_jobs", "", 10, CSV)
    assert row.cache_creation_5m == 3 and SETTINGS.is_eligible(row)


def test_a_bad_csv_lists_its_problems_and_yields_nothing():
    header = "date,service_tier,uncached_input_tokens,cache_creation_tokens,cache_read_tokens,output_tokens\n"
    lines = "".join(f"2026-10-{day:02d},batch,x,0,0,0\n" for day in range(1, 14))
    with pytest.raises(csv_import.CsvError) as raised:
        parse_csv(header + lines)
    assert "line 2: uncached_input_tokens 'x'" in str(raised.value) and "(and 3 more)" in str(raised.value)
    with pytest.raises(csv_import.CsvError, match="lacks the column"):
        parse_csv("date,tier\n")
    assert parse_csv(header) == []


def test_sample_data_tells_a_rising_story():
    from bot.metric import sample as metric_sample

    figures = metric_sample.compute()
    assert figures.today == metric_sample.SAMPLE_TODAY and figures.focus.key == "2026-10"
    shares = [p.eligible.share for p in figures.months if p.eligible.share is not None]
    assert shares[-2] > 5 * shares[0] and figures.movement.direction == "up"
    assert figures.months[0].partial and not figures.focus.partial
    assert all(p.overall.share < p.eligible.share for p in figures.months if p.has_data)


def test_the_per_team_table_sorts_by_money_left_and_shows_unowned_work_and_usage():
    accounting = Accounting(eligible=frozenset({"apikey_batchy", "apikey_loose"}), teams={"apikey_batchy": "@acme/data"})
    flags = [Flag("acme/a", 1, at(date(2026, 9, 2)), 100.0, "@acme/data"),
             Flag("acme/a", 2, at(date(2026, 9, 3)), 300.0, "@acme/data"),
             Flag("acme/b", 3, at(date(2026, 9, 4)), 250.0),  # no CODEOWNERS line names its code
             Flag("acme/c", 4, at(date(2026, 9, 5)), None, "@acme/web")]
    rows = [use(date(2026, 9, 1), "batch", 300), use(date(2026, 9, 1), "standard", 100),
            use(date(2026, 9, 1), "standard", 500, key="apikey_loose")]
    nobody, data, web = metric.teams(flags, {("acme/a", 2)}, rows, accounting)
    assert (data.name, data.flagged, data.adopted, data.usd_flagged, data.usd_left) == ("@acme/data", 2, 1, 400.0, 100.0)
    assert data.eligible_share == 0.75 and data.open_prs == (("acme/a", 1),)
    assert (nobody.name, nobody.usd_left, nobody.eligible_share) == (NOBODY, 250.0, 0.0)  # unmapped usage shows here
    assert (web.name, web.usd_flagged, web.eligible_share, web.open_prs) == ("@acme/web", 0.0, None, (("acme/c", 4),))


# --- false alarms and exemptions -------------------------------------------------------------

def review(repo, number, day, *, signals=(), said=(), workloads=True):
    """A history row: `signals` on one hint; `said` ((by, at, signals) ...) as `/batch-review wrong` disagreements."""
    hints = [{"signals": [{"id": signal} for signal in signals]}] if signals else []
    document = {"workloads": [{"hints": hints}] if workloads else [],
                "disagreements": [{"by": by, "at": when, "signals": list(sigs)} for by, when, sigs in said]}
    return {"repo": repo, "number": number, "reviewed_at": at(day), "document": document}


def test_reviewed_prs_take_the_first_review_with_a_workload_and_the_latest_reviews_disagreements():
    history = [review("o/a", 1, date(2026, 9, 30), workloads=False),  # no workload yet: not reviewed
               review("o/a", 1, date(2026, 10, 2), signals=("loop",)),
               review("o/a", 1, date(2026, 10, 3), signals=("nightly-job",),
                      said=[("mallory", "2026-10-03T08:00:00Z", ["loop", "nightly-job"])]),
               review("o/a", 2, date(2026, 10, 4), said=[("eve", "2026-10-04T00:00:00Z", [])]),
               review("o/a", 2, date(2026, 10, 5)),  # the wrong command was deleted: it no longer counts
               review("o/b", 3, date(2026, 11, 1), signals=("comprehension",),
                      said=[("bob", "2026-11-02T00:00:00Z", ["comprehension"]), ("al", "", ["comprehension"])]),
               review("o/c", 4, date(2026, 8, 1), workloads=False)]  # never a workload: not counted at all
    found = {(pr.repo, pr.number): pr for pr in metric.reviewed_prs(history)}
    assert set(found) == {("o/a", 1), ("o/a", 2), ("o/b", 3)}
    one = found[("o/a", 1)]
    assert (one.first, one.signals, one.wrong_at, one.wrong_signals) == (
        date(2026, 10, 2), ("loop", "nightly-job"), date(2026, 10, 3), ("loop", "nightly-job"))
    assert found[("o/a", 2)].wrong_at is None and found[("o/a", 2)].wrong_signals == ()
    assert found[("o/b", 3)].wrong_at == date(2026, 11, 1)  # a disagreement without its time: its review's day


def test_false_alarms_per_month_and_per_signal():
    reviewed = [metric.Reviewed("o/a", 1, date(2026, 9, 20), ("loop",), date(2026, 10, 1), ("loop",)),
                metric.Reviewed("o/a", 2, date(2026, 10, 2), ("loop", "nightly-job")),
                metric.Reviewed("o/a", 3, date(2026, 10, 3), ("comprehension", "loop"), date(2026, 10, 4),
                                ("comprehension", "loop")),
                metric.Reviewed("o/b", 4, date(2026, 10, 5)),  # a checklist alone, no signal
                metric.Reviewed("o/b", 5, date(2026, 10, 6), (), date(2026, 10, 7), ())]  # wrong, with no signal
    september, october, november = metric.false_alarms(reviewed, [date(2026, 9, 1), OCT1, NOV1])
    assert (september.reviewed, september.wrong, september.rate) == (1, 0, 0.0)
    assert (october.reviewed, october.wrong, october.by_signal) == (4, 3, (("loop", 2), ("comprehension", 1)))
    assert october.rate == 0.75 and (november.reviewed, november.wrong, november.rate) == (0, 0, None)
    precision = metric.precision(reviewed, [date(2026, 9, 1), OCT1])
    assert [(p.signal, p.shown, p.wrong) for p in precision] == [
        ("loop", 3, 2), ("comprehension", 1, 1), ("nightly-job", 1, 0)]
    assert [p.precision for p in precision] == [pytest.approx(1 / 3), 0.0, 1.0]
    assert metric.precision(reviewed, [NOV1]) == () and metric.SignalPrecision("x", 0, 0).precision is None
    figures = compute([], SETTINGS, today=TODAY, reviewed=reviewed)
    assert [a.month for a in figures.false_alarms] == [p.key for p in figures.months]
    report = view.report(figures)
    assert "## False alarms" in report and "| Oct 2026 | 4 | 3 | 75.0% | `loop` 2, `comprehension` 1 |" in report
    assert "| `loop` | 3 | 2 | 33.3% |" in report


def standing(repo, path, until, by=("carol",), reason="launch week", numbers=(7,)):
    return Standing(repo, path, tuple(by), reason, until, f"https://github.com/{repo}/pull/{numbers[0]}", tuple(numbers))


def test_an_exempted_workload_counts_as_exempted_not_missed():
    flags = [Flag("acme/a", 1, at(OCT1), 100.0, "@acme/data", exempt_until=date(2026, 11, 14)),  # runs today
             Flag("acme/a", 2, at(OCT2), 300.0, "@acme/data", exempt_until=date(2026, 11, 13)),  # ended yesterday
             Flag("acme/a", 3, at(OCT2), 50.0, "@acme/data", exempt_until=date(2026, 12, 1)),  # adopted as well
             Flag("acme/enrichment", 4, at(OCT2), 20.0, "@acme/data")]
    facts = [Facts("acme/a", 3, (ADOPTED_LABEL,))]
    rows = [use(date(2026, 10, 9), "standard", 1_000)]
    figures = compute(rows, SETTINGS, today=TODAY, flags=flags, facts=facts)
    october = next(f for f in figures.funnel if f.month == "2026-10")
    assert (october.flagged, october.adopted, october.exempted) == (4, 1, 1)
    data = next(team for team in figures.teams if team.name == "@acme/data")
    assert (data.flagged, data.adopted, data.exempted, data.usd_left) == (4, 1, 1, 320.0)
    assert data.open_prs == (("acme/a", 2), ("acme/enrichment", 4))  # the exempted one is not waiting on anyone
    assert {r.name: r.open_candidates for r in figures.repos} == {"acme/enrichment": 1}
    assert metric.settled(flags, {("acme/a", 3)}, TODAY) == {("acme/a", 1), ("acme/a", 3)}
    assert "| Oct 2026 | 4 | 1 | 25.0% | 1 | $470 a month |" in view.report(figures)
    later = compute(rows, SETTINGS, today=date(2026, 11, 15), flags=flags, facts=facts, focus=OCT1)
    assert next(f for f in later.funnel if f.month == "2026-10").exempted == 0  # lapsed: missed again


def test_the_report_lists_running_exemptions_then_those_that_ended_in_the_months_shown():
    found = [standing("acme/a", "jobs/enrich.py", "2026-12-01", by=("carol", "dan"), reason="launch | week"),
             standing("acme/a", "jobs/tag.py", "2026-11-14"),  # its last day is today: it runs
             standing("acme/b", "", "2026-11-01", numbers=(9,)),  # a checklist alone: named by its PR
             standing("acme/b", "docs/design.md", "2026-11-10"),
             standing("acme/c", "old.py", "2025-11-30")]  # ended before the months shown
    listed = metric.listed_exemptions(found, TODAY, date(2025, 12, 1))
    assert [(s.repo, s.workload, active) for s, active in listed] == [
        ("acme/a", "jobs/tag.py", True), ("acme/a", "jobs/enrich.py", True),
        ("acme/b", "docs/design.md", False), ("acme/b", "#9", False)]
    report = view.report(compute([], SETTINGS, today=TODAY, exemptions=found))
    assert "| acme/a: `jobs/enrich.py` | carol, dan | launch \\| week | 2026-12-01 | runs |" in report
    assert "| acme/b: `#9` | carol | launch week | 2026-11-01 | ended |" in report and "old.py" not in report
    assert "No exemption runs today" in view.report(compute([], SETTINGS, today=TODAY))
