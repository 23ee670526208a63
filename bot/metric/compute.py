"""The adoption metric (pure): usage and review history in, figures out.

The headline is the share of *eligible* token volume (API keys or workspaces named in
`metric.eligible`) that ran through the Message Batches API; tokens are input + cache creation +
cache reads + output. Usage comes from three sources: the Admin usage report (complete), and,
for months it does not cover, a CSV import and the helper's job totals (partial).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Iterable, NamedTuple, Optional

from bot.core.codeowners import NOBODY
from bot.core.config import Config
from bot.core.cost import BATCH_SHARE, Price, price, usd
from bot.core.names import ADOPTED_LABEL

# Where a usage row came from; only the Admin usage report is complete.
ADMIN, CSV, HELPER = "admin", "csv", "helper"
SOURCE_NAMES = {ADMIN: "Admin usage report", CSV: "CSV import", HELPER: "helper jobs"}

BATCH = "batch"
SYNC_TIERS = ("standard", "priority")  # synchronous service tiers
OTHER = "other"  # every tier this version does not know
TIERS = (BATCH, *SYNC_TIERS, OTHER)
_KNOWN_TIERS = frozenset(TIERS[:-1])

# Prompt-cache prices relative to the input price: 5-minute writes, 1-hour writes, reads.
CACHE_WRITE_5M, CACHE_WRITE_1H, CACHE_READ = 1.25, 2.0, 0.1
MOVED = 0.05  # percentage points below which a share "held steady"


class Usage(NamedTuple):  # a tuple: a year of a large organisation's usage is hundreds of thousands of rows
    """Tokens of one day for one (API key, workspace, model, service tier), from one source."""

    day: date
    service_tier: str  # as reported: standard, batch, priority, or a tier this version does not know
    uncached_input: int = 0
    cache_creation_5m: int = 0  # a CSV import's cache creation without a TTL split counts here
    cache_creation_1h: int = 0
    cache_read: int = 0
    output: int = 0
    api_key_id: str = ""
    workspace_id: str = ""
    model: str = ""
    source: str = ADMIN
    origin: str = ""  # the helper job's name

    @property
    def tokens(self) -> int:
        return self.uncached_input + self.cache_creation_5m + self.cache_creation_1h + self.cache_read + self.output

    @property
    def tier(self) -> str:
        return self.service_tier if self.service_tier in _KNOWN_TIERS else OTHER


@dataclass(frozen=True)
class Accounting:
    """The `metric` config section, as the figures need it."""

    eligible: frozenset = frozenset()  # API key ids and workspace ids
    prices: dict = field(default_factory=dict)  # `cost.prices`: model (or prefix) -> {"input": $/MTok, "output": $/MTok}
    repos: dict = field(default_factory=dict)  # API key id or workspace id -> repository (or team)
    teams: dict = field(default_factory=dict)  # API key id or workspace id -> team (`metric.teams`, inverted)

    @classmethod
    def from_config(cls, config: Config) -> Accounting:
        teams = {key: name for name, keys in config.metric.teams.items() for key in keys}
        return cls(frozenset(config.metric.eligible), dict(config.cost.prices), dict(config.metric.repos), teams)

    def team(self, row: Usage) -> str:
        """The team a usage row's API key or workspace belongs to, else NOBODY."""
        return self.teams.get(row.api_key_id) or self.teams.get(row.workspace_id) or NOBODY

    def is_eligible(self, row: Usage) -> bool:
        return row.source == HELPER or row.api_key_id in self.eligible or row.workspace_id in self.eligible

    def price(self, model: str) -> Optional[Price]:
        """The model's price from the project's one table (`cost.prices` first, then the built-in prices)."""
        return price(model, self.prices)


@dataclass(frozen=True)
class Volume:
    """Tokens per service tier ("other": tiers this version does not know, never dropped)."""

    batch: int = 0
    standard: int = 0
    priority: int = 0
    other: int = 0
    other_tiers: tuple = ()  # the unknown tiers' names as reported

    @property
    def total(self) -> int:
        return self.batch + self.standard + self.priority + self.other

    @property
    def synchronous(self) -> int:
        return self.standard + self.priority

    @property
    def share(self) -> Optional[float]:
        """batch / total, or None without any volume."""
        return self.batch / self.total if self.total else None


def volume(rows: Iterable[Usage]) -> Volume:
    tokens, unknown = dict.fromkeys(TIERS, 0), set()
    for row in rows:
        if row.service_tier in _KNOWN_TIERS:
            tokens[row.service_tier] += row.tokens
        else:
            tokens[OTHER] += row.tokens
            unknown.add(row.service_tier or "(none)")
    return Volume(**tokens, other_tiers=tuple(sorted(unknown)))


@dataclass(frozen=True)
class Period:
    """A month ("2026-10") or an ISO week ("2026-W41") and its figures."""

    key: str
    label: str
    start: date
    end: date  # exclusive
    eligible: Volume
    overall: Volume
    sources: tuple  # which sources fed it (ADMIN, CSV, HELPER)
    to_date: bool  # the period is not over yet
    money_left: float  # dollars: eligible synchronous volume times half its price
    unpriced: tuple  # (model, tokens): eligible synchronous volume without a price

    @property
    def partial(self) -> bool:
        """Not from the Admin usage report alone: batch traffic outside the helper may be missing."""
        return any(source != ADMIN for source in self.sources)

    @property
    def has_data(self) -> bool:
        return bool(self.sources)


@dataclass(frozen=True)
class Funnel:
    """Workloads first flagged as batch candidates in a month, and how many of them have moved since."""

    month: str
    label: str
    flagged: int
    adopted: int
    dollars: Optional[float] = None  # what the flagged workloads would save a month through batches; None: unknown
    exempted: int = 0  # not adopted, and exempted while the figures are computed: not missed

    @property
    def rate(self) -> Optional[float]:
        return self.adopted / self.flagged if self.flagged else None


@dataclass(frozen=True)
class Repo:
    """One line of "most eligible synchronous volume": a repository from `metric.repos`, else a key's id."""

    name: str
    mapped: bool  # named in metric.repos; else `name` is an API key or workspace id
    tokens: int
    money_left: float
    open_candidates: int  # flagged in the review history, neither adopted nor exempted


@dataclass(frozen=True)
class Team:
    """One line of the per-team table: a CODEOWNERS team's flagged workloads and its usage's eligible share."""

    name: str  # "@org/team", a user, or NOBODY
    flagged: int  # batch candidates first flagged in the period shown
    adopted: int  # of those, moved to batches since
    usd_flagged: float  # what batches would save the flagged ones a month (the PRs' cost figures)
    usd_left: float  # the same for those neither adopted nor exempted: money left on the table
    eligible_share: Optional[float]  # batch share of the eligible usage that maps to the team (None: none maps)
    open_prs: tuple = ()  # (repo, number) of flagged PRs neither adopted nor exempted, most saving first
    exempted: int = 0  # flagged, not adopted, exempted for now


@dataclass(frozen=True)
class Movement:
    """How the eligible share changed from one month to the next."""

    before: Period
    after: Period

    @property
    def points(self) -> float:
        return 100 * (self.after.eligible.share - self.before.eligible.share)

    @property
    def direction(self) -> str:
        return "up" if self.points >= MOVED else "down" if self.points <= -MOVED else "steady"


@dataclass(frozen=True)
class Figures:
    """Everything the dashboard and the report show."""

    today: date
    focus: Period  # the month in the spotlight (the report's month; the dashboard's last full month)
    months: tuple  # Period, oldest first
    weeks: tuple  # Period, oldest first
    funnel: tuple  # Funnel, oldest first
    repos: tuple  # Repo, most eligible synchronous volume first (the focus month)
    teams: tuple  # Team, most money left on the table first
    movement: Optional[Movement]
    notes: tuple  # what the data cannot tell, said plainly
    settings: Accounting
    false_alarms: tuple = ()  # FalseAlarms per month shown, oldest first
    precision: tuple = ()  # SignalPrecision, most false alarms first
    exemptions: tuple = ()  # (exemptions.Standing, active): running ones first, then those ended in the months shown


# --- Periods -----------------------------------------------------------------------------------

def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def parse_month(text: str) -> date:
    """"2026-10" -> date(2026, 10, 1); ValueError with a clear message otherwise."""
    try:
        day = datetime.strptime(text.strip(), "%Y-%m").date()
    except ValueError:
        raise ValueError(f"{text!r} is not a month; write it as YYYY-MM, e.g. 2026-10") from None
    return day


def next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def previous_month(day: date) -> date:
    return date(day.year - (day.month == 1), (day.month - 2) % 12 + 1, 1)


def month_range(first: date, last: date) -> list:
    """The first days of every month from `first`'s to `last`'s."""
    months, day = [], first.replace(day=1)
    while day <= last:
        months.append(day)
        day = next_month(day)
    return months


def month_label(day: date) -> str:
    return day.strftime("%b %Y")


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


# --- The figures -------------------------------------------------------------------------------

def select_sources(rows: Iterable[Usage], admin_months: Iterable[str]) -> list:
    """The rows that count: the Admin report's for the months it covers (fetched, or holding its rows);
    elsewhere the CSV import's, plus the helper's jobs unless the import holds that month's batch tier."""
    rows = list(rows)
    first_of = {day: day.replace(day=1) for day in {row.day for row in rows}}
    covered = {parse_month(month) for month in admin_months} | {first_of[row.day] for row in rows
                                                                 if row.source == ADMIN}
    imported_batch = {first_of[row.day] for row in rows if row.source == CSV and row.tier == BATCH}
    kept = []
    for row in rows:
        month = first_of[row.day]
        if month in covered:
            keep = row.source == ADMIN
        elif row.source == HELPER:
            keep = month not in imported_batch
        else:
            keep = row.source == CSV
        if keep:
            kept.append(row)
    return kept


def cost(row: Usage, price_: Price) -> float:
    """Dollars at the synchronous price, cache writes and reads at their share of the input price."""
    return usd(price_, row.uncached_input + CACHE_WRITE_5M * row.cache_creation_5m
               + CACHE_WRITE_1H * row.cache_creation_1h + CACHE_READ * row.cache_read, row.output)


def _eligible_synchronous(rows, settings: Accounting) -> list:
    return [row for row in rows if row.tier in SYNC_TIERS and settings.is_eligible(row)]


def money_left(rows: Iterable[Usage], settings: Accounting) -> tuple:
    """(dollars saved had the eligible synchronous volume run at the batch discount, unpriced (model, tokens))."""
    dollars, unpriced = 0.0, defaultdict(int)
    for row in _eligible_synchronous(rows, settings):
        prices = settings.price(row.model)
        if prices is None:
            unpriced[row.model or "(model not reported)"] += row.tokens
        else:
            dollars += cost(row, prices) * (1 - BATCH_SHARE)
    return dollars, tuple(sorted(unpriced.items(), key=lambda item: -item[1]))


def period(key: str, label: str, start: date, end: date, rows: Iterable[Usage], settings: Accounting,
           today: date) -> Period:
    inside = [row for row in rows if start <= row.day < end]
    dollars, unpriced = money_left(inside, settings)
    return Period(key, label, start, end,
                  eligible=volume(row for row in inside if settings.is_eligible(row)),
                  overall=volume(inside),
                  sources=tuple(sorted({row.source for row in inside}, key=list(SOURCE_NAMES).index)),
                  to_date=end > today, money_left=dollars, unpriced=unpriced)


def month_period(first: date, rows, settings: Accounting, today: date) -> Period:
    return period(month_key(first), month_label(first), first, next_month(first), rows, settings, today)


def week_period(monday: date, rows, settings: Accounting, today: date) -> Period:
    year, week, _ = monday.isocalendar()
    return period(f"{year}-W{week:02d}", f"week of {monday.day} {monday:%b}", monday, monday + timedelta(days=7),
                  rows, settings, today)


def movement(before: Optional[Period], after: Period) -> Optional[Movement]:
    """Up, down or steady, when both months have an eligible share."""
    if before is None or before.eligible.share is None or after.eligible.share is None:
        return None
    return Movement(before, after)


# --- The funnel --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Flag:
    """A pull request's first review with the batch-candidate verdict."""

    repo: str
    number: int
    at: datetime
    usd_month: Optional[float] = None  # its review's `savings_usd_month`: what batches would save it a month
    team: str = NOBODY  # who owns the workload's code (CODEOWNERS)
    exempt_until: Optional[date] = None  # its latest review's running exemption ends that day

    def exempted(self, today: date) -> bool:
        """An exemption runs: the workload counts as exempted, not as missed."""
        return self.exempt_until is not None and self.exempt_until >= today


@dataclass(frozen=True)
class Facts:
    """What the App last saw of a pull request: its labels, and when its diff first brought in batched calls."""

    repo: str
    number: int
    labels: tuple = ()
    batched_at: Optional[datetime] = None


def adopted(flags: Iterable[Flag], facts: Iterable[Facts]) -> set:
    """(repo, number) of the flagged PRs that moved to batches.

    A flagged PR is adopted when it carries `batch/adopted`, or when a PR of the same repository
    brings in `messages.batches` or the shared helper at or after the flag. One such PR adopts one
    flagged workload: itself when it was flagged, else the earliest one flagged on its repository.
    """
    flags = sorted(flags, key=lambda flag: (flag.at, flag.repo, flag.number))
    flagged_at = {(flag.repo, flag.number): flag.at for flag in flags}
    facts = list(facts)
    done = {(f.repo, f.number) for f in facts if ADOPTED_LABEL in f.labels and (f.repo, f.number) in flagged_at}
    for evidence in sorted((f for f in facts if f.batched_at), key=lambda f: f.batched_at):
        own = (evidence.repo, evidence.number)
        if own in flagged_at and flagged_at[own] <= evidence.batched_at:
            done.add(own)
            continue
        earliest = next((key for key, at in flagged_at.items()
                         if key[0] == evidence.repo and key not in done and at <= evidence.batched_at), None)
        if earliest:
            done.add(earliest)
    return done


def funnel(flags: Iterable[Flag], moved: set, months: Iterable[date], today: Optional[date] = None) -> tuple:
    """Per month: workloads first flagged then, how many of those (`moved`: see `adopted`) moved since, the
    dollars a month they were flagged for, and how many of the others are exempted on `today`."""
    by_month = defaultdict(list)
    for flag in flags:
        by_month[month_key(flag.at.date())].append(flag)
    return tuple(Funnel(month_key(first), month_label(first), len(cohort),
                        sum((flag.repo, flag.number) in moved for flag in cohort),
                        sum(flag.usd_month or 0 for flag in cohort),
                        sum(today is not None and (flag.repo, flag.number) not in moved and flag.exempted(today)
                            for flag in cohort))
                 for first in months for cohort in [by_month[month_key(first)]])


# --- Everything --------------------------------------------------------------------------------

def compute(rows: Iterable[Usage], settings: Accounting, *, today: date, admin_months: Iterable[str] = (),
            flags: Iterable[Flag] = (), facts: Iterable[Facts] = (), focus: Optional[date] = None,
            through: Optional[date] = None, months: int = 12, weeks: int = 8, reviewed: Iterable = (),
            exemptions: Iterable = ()) -> Figures:
    """The figures of `months` months up to `through` (default: this month, to date) and of the `weeks`
    ISO weeks up to then; `focus` (default: the last full month) is the month in the spotlight. `reviewed`
    (Reviewed, see `reviewed_prs`) gives the false alarms, `exemptions` (exemptions.Standing) the exemptions."""
    flags, facts, reviewed = list(flags), list(facts), list(reviewed)
    admin_months = set(admin_months)
    rows = select_sources(rows, admin_months)
    focus = (focus or previous_month(today)).replace(day=1)
    through = (through or max(focus, today.replace(day=1))).replace(day=1)
    shown = month_range(min(months_back(through, months - 1), previous_month(focus)), through)
    by_month, by_week = defaultdict(list), defaultdict(list)  # one pass over the rows, not one per period
    starts = {day: (day.replace(day=1), _week_start(day)) for day in {row.day for row in rows}}
    for row in rows:
        first, monday = starts[row.day]
        by_month[first].append(row)
        by_week[monday].append(row)
    month_periods = tuple(month_period(first, by_month[first], settings, today) for first in shown)
    monday = _week_start(min(today, next_month(through) - timedelta(days=1)))
    week_periods = tuple(week_period(monday - timedelta(weeks=back), by_week[monday - timedelta(weeks=back)],
                                     settings, today) for back in reversed(range(weeks)))
    focused = next(p for p in month_periods if p.start == focus)
    before = next(p for p in month_periods if p.end == focus)
    moved = adopted(flags, facts)
    return Figures(
        today=today,
        focus=focused,
        months=month_periods,
        weeks=week_periods,
        funnel=funnel(flags, moved, shown, today),
        repos=top_repos(by_month[focus], settings, flags, settled(flags, moved, today)),
        teams=teams(flags, moved, by_month[focus], settings, today=today),
        movement=movement(before, focused),
        notes=notes(rows, settings, month_periods, focused),
        settings=settings,
        false_alarms=false_alarms(reviewed, shown),
        precision=precision(reviewed, shown),
        exemptions=listed_exemptions(exemptions, today, shown[0]),
    )


def settled(flags, moved: set, today: date) -> set:
    """(repo, number) of the flagged PRs that count as done: adopted, or exempted on `today`."""
    return set(moved) | {(flag.repo, flag.number) for flag in flags if flag.exempted(today)}


def months_back(day: date, count: int) -> date:
    for _ in range(count):
        day = previous_month(day)
    return day


def top_repos(rows, settings: Accounting, flags, moved: set, limit: int = 10) -> tuple:
    """The repositories (or, unnamed in metric.repos, the keys) with the most eligible synchronous volume in `rows`;
    open candidates are the flags not in `moved` (adopted or exempted)."""
    tokens, dollars = defaultdict(int), defaultdict(float)
    for row in _eligible_synchronous(rows, settings):
        name = _owner(row, settings)
        tokens[name] += row.tokens
        prices = settings.price(row.model)
        dollars[name] += cost(row, prices) * (1 - BATCH_SHARE) if prices else 0.0
    open_candidates = defaultdict(int)
    for flag in flags:
        if (flag.repo, flag.number) not in moved:
            open_candidates[flag.repo] += 1
    mapped = set(settings.repos.values())
    names = set(tokens) | {repo for repo in open_candidates if repo in mapped}
    ranked = sorted(names, key=lambda name: (-tokens[name], -open_candidates[name], name))[:limit]
    return tuple(Repo(name, name in mapped, tokens[name], dollars[name], open_candidates[name]) for name in ranked)


def teams(flags, moved: set, rows, settings: Accounting, shown_prs: int = 3, today: Optional[date] = None) -> tuple:
    """The per-team table: every team with a flagged workload or eligible usage, most money left on the table first;
    a flag exempted on `today` is neither adopted nor left on the table."""
    flagged = defaultdict(list)
    for flag in flags:
        flagged[flag.team].append(flag)
    usage = defaultdict(list)
    for row in rows:
        if settings.is_eligible(row):
            usage[settings.team(row)].append(row)
    found = []
    for name in set(flagged) | set(usage):
        own = flagged[name]
        waiting = [flag for flag in own if (flag.repo, flag.number) not in moved]
        left = [flag for flag in waiting if today is None or not flag.exempted(today)]
        left.sort(key=lambda flag: -(flag.usd_month or 0.0))
        found.append(Team(name, len(own), len(own) - len(waiting), sum(flag.usd_month or 0.0 for flag in own),
                          sum(flag.usd_month or 0.0 for flag in left), volume(usage[name]).share if usage[name] else None,
                          tuple((flag.repo, flag.number) for flag in left[:shown_prs]), len(waiting) - len(left)))
    return tuple(sorted(found, key=lambda team: (-team.usd_left, -(team.flagged - team.adopted), team.name)))


def _owner(row: Usage, settings: Accounting) -> str:
    for key in (row.api_key_id, row.workspace_id):
        if key in settings.repos:
            return settings.repos[key]
    return row.api_key_id or row.workspace_id or "(no key or workspace reported)"


def notes(rows, settings: Accounting, months, focus: Period) -> tuple:
    """What the figures cannot say, in plain words."""
    found = []
    if not focus.has_data:
        found.append(f"No usage is stored for {focus.label}: run `batch-review metric sync` with ANTHROPIC_ADMIN_KEY, "
                     "or import a CSV export with `batch-review metric import`.")
    if not settings.eligible:
        found.append("metric.eligible names no API key or workspace, so the eligible share cannot be computed; "
                     "the overall share is shown instead. Name the keys or workspaces that carry "
                     "latency-tolerant work.")
    partial = [p.label for p in months if p.partial]
    if partial:
        found.append(f"Partial figures ({', '.join(partial)}): the Admin usage report did not cover "
                     "these months, so they come from the helper's job totals and imported CSV usage; "
                     "batch traffic sent outside the helper is missing. Run `batch-review metric sync` "
                     "with ANTHROPIC_ADMIN_KEY for complete figures.")
    if any(row.source == HELPER for row in rows):
        found.append("Helper jobs count as eligible batch volume: the helper carries latency-tolerant work by design.")
    unknown = sorted({tier for p in months for tier in p.overall.other_tiers})
    if unknown:
        found.append(f"Service tiers this version does not know ({', '.join(unknown)}) are counted in the "
                     "\"other\" row: in the totals, never as batch.")
    unpriced = sorted({model for p in months for model, _ in p.unpriced})
    if unpriced:
        found.append(f"No price is known for {', '.join(unpriced)}: that volume is left out of the money left on "
                     "the table. Add the models to cost.prices.")
    if any(row.tier in SYNC_TIERS and settings.is_eligible(row) and not _named(row, settings) for row in rows):
        found.append("The usage report counts tokens per API key and workspace, not per repository: name each "
                     "eligible key's repository in metric.repos to see repositories instead of key ids.")
    return tuple(found)


def _named(row: Usage, settings: Accounting) -> bool:
    return row.api_key_id in settings.repos or row.workspace_id in settings.repos


# --- False alarms and exemptions -----------------------------------------------------------------

@dataclass(frozen=True)
class Reviewed:
    """A pull request as the review history tells it: when it was first reviewed with a workload, the diff's
    signals its reviews showed, and when someone first said `/batch-review wrong` with the signals disagreed with."""

    repo: str
    number: int
    first: date
    signals: tuple = ()
    wrong_at: Optional[date] = None  # None: nobody (still) says the review is wrong
    wrong_signals: tuple = ()


@dataclass(frozen=True)
class FalseAlarms:
    """One month: pull requests first reviewed with a workload, and those first called wrong, per signal."""

    month: str
    label: str
    reviewed: int
    wrong: int
    by_signal: tuple = ()  # (signal, PRs called wrong with it), most first

    @property
    def rate(self) -> Optional[float]:
        return self.wrong / self.reviewed if self.reviewed else None


@dataclass(frozen=True)
class SignalPrecision:
    """One signal over the months shown: PRs whose reviews showed it, and those called wrong with it."""

    signal: str
    shown: int
    wrong: int

    @property
    def precision(self) -> Optional[float]:
        """The share of the PRs showing the signal nobody called wrong; None when none showed it."""
        return 1 - self.wrong / self.shown if self.shown else None


def _day(text, fallback: date) -> date:
    try:
        return date.fromisoformat(str(text)[:10])
    except ValueError:
        return fallback


def reviewed_prs(history: Iterable[dict]) -> tuple:
    """Reviewed per PR from the review history (dicts with repo, number, reviewed_at, document; oldest first).
    The disagreements that stand are those of the PR's latest review (a deleted `wrong` no longer counts)."""
    first, signals, latest = {}, defaultdict(set), {}
    for review in history:
        key, document = (review["repo"], review["number"]), review.get("document") or {}
        day = review["reviewed_at"].date()
        workloads = document.get("workloads") or ()
        if workloads and key not in first:
            first[key] = day
        signals[key].update(signal["id"] for workload in workloads for hint in workload.get("hints") or ()
                            for signal in hint.get("signals") or ())
        latest[key] = (day, document.get("disagreements") or ())
    found = []
    for key, day in first.items():
        reviewed_on, said = latest[key]
        wrong_at = min((_day(d.get("at"), reviewed_on) for d in said), default=None)
        wrong_signals = sorted({signal for d in said for signal in d.get("signals") or ()})
        found.append(Reviewed(*key, day, tuple(sorted(signals[key] | set(wrong_signals))), wrong_at,
                              tuple(wrong_signals)))
    return tuple(found)


def false_alarms(reviewed: Iterable[Reviewed], months: Iterable[date]) -> tuple:
    """Per month: PRs first reviewed with a workload then, PRs first called wrong then, and per signal."""
    reviewed = list(reviewed)
    found = []
    for first in months:
        key = month_key(first)
        wrong = [pr for pr in reviewed if pr.wrong_at and month_key(pr.wrong_at) == key]
        counts = defaultdict(int)
        for pr in wrong:
            for signal in pr.wrong_signals:
                counts[signal] += 1
        found.append(FalseAlarms(key, month_label(first), sum(month_key(pr.first) == key for pr in reviewed),
                                 len(wrong), tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))))
    return tuple(found)


def precision(reviewed: Iterable[Reviewed], months: Iterable[date]) -> tuple:
    """Per signal, over the PRs first reviewed in `months`: how many showed it and how many of those were called
    wrong with it; most false alarms first."""
    keys = {month_key(first) for first in months}
    shown, wrong = defaultdict(int), defaultdict(int)
    for pr in reviewed:
        if month_key(pr.first) not in keys:
            continue
        for signal in pr.signals:
            shown[signal] += 1
            wrong[signal] += bool(pr.wrong_at) and signal in pr.wrong_signals
    return tuple(sorted((SignalPrecision(signal, shown[signal], wrong[signal]) for signal in shown),
                        key=lambda row: (-row.wrong, -row.shown, row.signal)))


def listed_exemptions(standings: Iterable, today: date, since: date) -> tuple:
    """(Standing, active) of the exemptions running on `today`, soonest ending first, then those that ended on or
    after `since`, latest first."""
    standings = list(standings)
    running = sorted((s for s in standings if s.active(today)), key=lambda s: (s.until, s.repo, s.path))
    ended = sorted((s for s in standings if not s.active(today) and s.until >= since.isoformat()),
                   key=lambda s: (s.until, s.repo, s.path), reverse=True)
    return tuple((s, True) for s in running) + tuple((s, False) for s in ended)


# --- Formats -----------------------------------------------------------------------------------
