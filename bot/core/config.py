"""`.github/batch-review.yml`: YAML in, a validated frozen Config out (pure).

Every problem of a file is reported at once, each with its line: wrong values are errors (the
review then uses the defaults), unknown keys are warnings (ignored, so a newer version's settings
never break an older one). Bounded against hostile files: size, aliases, nesting, string length,
the `_extends` chain, and what a message shows.
"""

import math
from dataclasses import dataclass, field, fields, replace
from typing import Callable, NamedTuple, Optional
from urllib.parse import urlsplit

import yaml

from bot.core.decision import DEFAULT_VOLUME_THRESHOLD
from bot.core.globs import matches
from bot.core.names import CONFIG_PATH, HANDBOOK_URL, HELPER_URL, Verdict
from bot.fix.model import DEFAULT_HELPER_IMPORT, HELPER_IMPORT

DECIDED_VERDICTS = (Verdict.BATCH_CANDIDATE.value, Verdict.SYNCHRONOUS.value, Verdict.NEEDS_ANSWERS.value)
ALL_VERDICTS = DECIDED_VERDICTS + (Verdict.NOT_APPLICABLE.value,)


MAX_FILE_BYTES = 256 * 1024
MAX_DEPTH = 20  # nested mappings and lists
MAX_TEXT = 1_000  # characters of any string in the file (a link, a glob, a model id)
MAX_EXTENDS = 5  # `_extends` files followed from one repository's file
MAX_PROBLEMS = 20  # listed in one report; the rest are counted
SHOWN = 200  # characters of a value quoted in a message


def capped(problems) -> list:
    """At most MAX_PROBLEMS problems, then how many more there are."""
    problems = list(problems)
    extra = len(problems) - MAX_PROBLEMS
    return problems[:MAX_PROBLEMS] + ([f"…and {extra} more."] if extra > 0 else [])


class ConfigError(ValueError):
    """Config problems (each an argument), worded for the person who has to fix the file."""

    def __str__(self) -> str:
        return "\n".join(map(str, capped(self.args)))


@dataclass(frozen=True)
class Links:
    handbook: str = HANDBOOK_URL
    helper: str = HELPER_URL


@dataclass(frozen=True)
class Scan:
    max_files: int = 50
    show_dismissed: bool = False  # the comment says why each loop or pool it set aside is not bulk work


@dataclass(frozen=True)
class Inference:
    enabled: bool = True  # takes effect only when an Anthropic API key is configured
    model: str = "claude-haiku-5-5"  # the current Haiku (October 2026)
    max_tokens: int = 1024
    monthly_token_budget: int = 2_000_000  # per repository (the App: the Action has no database to count in)
    pr_token_budget: int = 50_000  # per pull request, counted in the bot's own comment (the Action and the App)
    forks: bool = False  # suggest answers on PRs from forks too


@dataclass(frozen=True)
class Exemptions:
    max_days: int = 90  # the longest `/batch-review exempt until DATE` may run, from the command's day


@dataclass(frozen=True)
class Repositories:
    """Which of the organisation's repositories the App serves: names matching `include` and no `exclude` glob."""

    include: tuple = ("*",)
    exclude: tuple = ()


@dataclass(frozen=True)
class Fix:
    suggest: bool = True  # post the ready change of a batch candidate's loop as a suggested change on the PR


@dataclass(frozen=True)
class MetricConfig:
    eligible: tuple = ()  # API key ids or workspace ids whose traffic is latency-tolerant
    prices: dict = field(default_factory=dict)  # model -> {"input": $/MTok, "output": $/MTok}
    repos: dict = field(default_factory=dict)  # API key id or workspace id -> the repository (or team) it serves
    report_repo: str = ""  # owner/name where the App opens the monthly report as an issue; empty: off
    teams: dict = field(default_factory=dict)  # team (as CODEOWNERS names it) -> its API key ids and workspace ids


@dataclass(frozen=True)
class CostConfig:
    """What a workload's monthly figure assumes where the call site does not say (bot/core/cost.py)."""

    model: str = "claude-sonnet-5-5"  # the current Sonnet (December 2026), for calls whose model cannot be read
    input_tokens: int = 1_000  # per request
    output_tokens: int = 500  # per request, thinking included; a literal max_tokens below it caps it
    prices: dict = field(default_factory=dict)  # model or prefix -> {"input": $/MTok, "output": $/MTok}, over the built-in table


@dataclass(frozen=True)
class Config:
    volume_threshold: float = float(DEFAULT_VOLUME_THRESHOLD)
    links: Links = Links()
    design_docs: tuple = ("docs/design/**", "rfcs/**", "**/*design*.md")
    comment_on: tuple = (Verdict.BATCH_CANDIDATE.value, Verdict.NEEDS_ANSWERS.value)
    drafts: str = "label-only"
    trigger: str = "auto"
    fail_on: tuple = ()
    label_answers_from: str = "anyone"
    scan: Scan = Scan()
    inference: Inference = Inference()
    metric: MetricConfig = field(default_factory=MetricConfig)
    cost: CostConfig = field(default_factory=CostConfig)
    helper_import: str = DEFAULT_HELPER_IMPORT  # how the ready change imports run_batch (a vendored copy)
    fix: Fix = Fix()
    exemptions: Exemptions = Exemptions()
    # The App's rollout controls, read from the organisation's file only (see ORGANISATION_SETTINGS)
    mode: str = "live"  # shadow: reviews are kept and labels applied, but nothing is commented or checked
    onboarding: str = "off"  # pull-request: the App opens a "Set up batch-review" PR in each repository it joins
    repositories: Repositories = Repositories()


DEFAULT = Config()
# Settings the App reads from the organisation's `.github` repository (and what its file extends) only.
ORGANISATION_SETTINGS = ("mode", "onboarding", "repositories")

_CHOICES = {
    "drafts": ("comment", "label-only", "skip"),
    "trigger": ("auto", "always", "checklist-only"),
    "label_answers_from": ("anyone", "reviewers"),
    "mode": ("live", "shadow"),
    "onboarding": ("off", "pull-request"),
}
_VERDICT_LISTS = {"comment_on": ALL_VERDICTS, "fail_on": DECIDED_VERDICTS}
_SECTIONS = {"links": Links, "scan": Scan, "inference": Inference, "metric": MetricConfig, "cost": CostConfig, "fix": Fix,
             "exemptions": Exemptions, "repositories": Repositories}
DEFAULTS_USED = "The settings below have errors, so this review used the default settings; fix them on the default branch."


def _type_name(kind) -> str:
    return {bool: "true or false", int: "a whole number", float: "a number", str: "a string",
            tuple: "a list", dict: "a mapping"}[kind]


def _cut(text: str) -> str:
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"


def shown(value) -> str:
    """A value as a message quotes it: its repr, cut to SHOWN characters."""
    return _cut(repr(value))


def _longest_text(value) -> int:
    """The length of the longest string in a value (keys too)."""
    if isinstance(value, str):
        return len(value)
    items = [*value, *value.values()] if isinstance(value, dict) else value if isinstance(value, list) else ()
    return max(map(_longest_text, items), default=0)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check(key: str, value, default):
    """Validate one leaf against its default's type and the allowed choices; return it normalised."""
    leaf = key.rsplit(".", 1)[-1]
    if _longest_text(value) > MAX_TEXT:
        raise ConfigError(f"`{key}` holds a text of {_longest_text(value):,} characters; at most {MAX_TEXT:,} are allowed.")
    if leaf in _CHOICES:
        if value is False and "off" in _CHOICES[leaf]:  # YAML 1.1 reads a bare `off` as false
            value = "off"
        if value not in _CHOICES[leaf]:
            raise ConfigError(f"`{key}: {shown(value)}` is not allowed; use one of: {', '.join(_CHOICES[leaf])}.")
        return value
    if leaf in _VERDICT_LISTS:
        allowed = _VERDICT_LISTS[leaf]
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or any(item not in allowed for item in items):
            raise ConfigError(f"`{key}: {shown(value)}` is not allowed; use a list of: {', '.join(allowed)}.")
        return tuple(items)
    if key in _MAPPINGS:
        return _MAPPINGS[key](key, value)
    kind = type(default)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if kind is tuple and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    if kind is dict and isinstance(value, dict):
        return value
    if type(value) is not kind or kind is tuple:
        raise ConfigError(f"`{key}: {shown(value)}` has the wrong type; it must be {_type_name(kind)}"
                          + (" of strings." if kind is tuple else "."))
    if kind in (int, float) and not _is_number(value):
        raise ConfigError(f"`{key}: {shown(value)}` must be a finite number.")
    if kind in (int, float) and value < 0:
        raise ConfigError(f"`{key}: {shown(value)}` must not be negative.")
    return value


def _prices(key: str, value) -> dict:
    """`cost.prices` (and its old name `metric.prices`): model -> {input: dollars per million tokens, output: ...}."""
    ok = isinstance(value, dict) and all(
        isinstance(model, str) and isinstance(price, dict) and set(price) == {"input", "output"}
        and all(_is_number(p) and p >= 0 for p in price.values())
        for model, price in value.items())
    if not ok:
        raise ConfigError(f"`{key}: {shown(value)}` must map each model to its prices in dollars per million tokens, "
                          "e.g. `claude-sonnet-4-5: {input: 3, output: 15}`.")
    return value


def _teams(key: str, value) -> dict:
    """`metric.teams`: team -> the API key ids and workspace ids its usage comes from."""
    if not isinstance(value, dict) or not all(isinstance(team, str) and isinstance(ids, list)
                                              and all(isinstance(i, str) for i in ids) for team, ids in value.items()):
        raise ConfigError(f"`{key}: {shown(value)}` must map each team (as CODEOWNERS names it, e.g. @acme/data) "
                          "to a list of API key ids and workspace ids.")
    return {team: tuple(ids) for team, ids in value.items()}


def _repos(key: str, value) -> dict:
    """`metric.repos`: API key id or workspace id -> repository."""
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ConfigError(f"`{key}: {shown(value)}` must map API key ids or workspace ids to repositories, "
                          "e.g. `apikey_01Rj2N8SVvo6BePZj99NhmiT: acme/enrichment`.")
    return value


def _report_repo(key: str, value) -> str:
    if not isinstance(value, str) or (value and (value.count("/") != 1 or not all(value.split("/")))):
        raise ConfigError(f"`{key}: {shown(value)}` must be a repository as owner/name, or empty to open no issue.")
    return value


def is_http_url(value) -> bool:
    """An absolute http(s) URL with a host (`links.*` here, the App's URL settings)."""
    try:
        parts = urlsplit(value)
    except (TypeError, ValueError, AttributeError):
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _link(key: str, value) -> str:
    if not is_http_url(value):
        raise ConfigError(f"`{key}: {shown(value)}` must be an http(s) URL with a host, "
                          "e.g. `https://wiki.example.com/batch-norm`.")
    return value


def _helper_import(key: str, value) -> str:
    if not isinstance(value, str) or not HELPER_IMPORT.fullmatch(value):
        raise ConfigError(f"`{key}: {shown(value)}` must import run_batch, e.g. `from yourpkg.batches import run_batch`.")
    return value


_MAPPINGS = {"cost.prices": _prices, "metric.prices": _prices, "metric.repos": _repos, "metric.teams": _teams,
             "metric.report_repo": _report_repo, "helper_import": _helper_import, "links.handbook": _link,
             "links.helper": _link}


_RENAMED = {"metric.prices": "cost.prices"}  # deprecated setting -> its new name


class _Problem(NamedTuple):
    path: tuple  # the keys that lead to the setting
    message: str
    warning: bool = False  # an unknown key (ignored) or an old name (still read): the rest applies


def _build(cls, raw: dict, problems: list, path: tuple = ()):
    """`cls` from the valid settings of `raw`; each wrong value and unknown key is added to `problems`."""
    known = [f.name for f in fields(cls)]
    defaults, values = cls(), {}
    for key, value in raw.items():
        where = path + (key,)
        name = ".".join(map(str, where))
        if key not in known:
            problems.append(_Problem(where, f"`{_cut(name)}` is not a batch-review setting, so it is ignored; "
                                            f"known here: {', '.join(known)}.", warning=True))
        elif key in _SECTIONS and not path:
            if isinstance(value, dict):
                values[key] = _build(_SECTIONS[key], value, problems, where)
            else:
                problems.append(_Problem(where, f"`{name}: {shown(value)}` must be a mapping with keys: "
                                                f"{', '.join(f.name for f in fields(_SECTIONS[key]))}."))
        else:
            if name in _RENAMED:
                problems.append(_Problem(where, f"`{name}` is the old name of `{_RENAMED[name]}`; it is still read, "
                                                f"but rename it (`{_RENAMED[name]}` wins where both name a model).",
                                         warning=True))
            try:
                values[key] = _check(name, value, getattr(defaults, key))
            except ConfigError as error:
                problems.append(_Problem(where, str(error)))
    return cls(**values)


def _settings(raw: dict) -> dict:
    return {key: value for key, value in raw.items() if key != "_extends"}


def from_mapping(raw: dict) -> Config:
    """The Config of a raw mapping, unknown keys ignored; ConfigError names every wrong value."""
    problems = []
    config = _build(Config, _settings(raw), problems)
    errors = [problem.message for problem in problems if not problem.warning]
    if errors:
        raise ConfigError(*errors)
    if not config.metric.prices:
        return config
    return replace(config, cost=replace(config.cost, prices={**config.metric.prices, **config.cost.prices}))


class _Refused(yaml.MarkedYAMLError):
    """YAML that parses but is refused: an alias or too deep a nesting."""


class _Loader(yaml.SafeLoader):
    """safe_load's loader, refusing aliases (a few hundred bytes of them expand to gigabytes) and deep nesting."""

    def __init__(self, stream):
        super().__init__(stream)
        self.depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(problem=f"the alias `*{_cut(event.anchor)}` is not allowed; write the value out",
                           problem_mark=event.start_mark)
        if self.depth >= MAX_DEPTH:
            raise _Refused(problem=f"settings nest at most {MAX_DEPTH} levels deep", problem_mark=event.start_mark)
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _compose(text: str):
    """(the document's node tree, its value): yaml.safe_load within the bounds above."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        return node, None if node is None else loader.construct_document(node)
    finally:
        loader.dispose()


def _key_lines(node, path: tuple = ()) -> dict:
    """(key, ...) -> the line of that key, for every key of the document's nested mappings."""
    lines = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                lines[path + (key.value,)] = key.start_mark.line + 1
                lines.update(_key_lines(value, path + (key.value,)))
    return lines


class Loaded(NamedTuple):
    raw: dict  # the settings as written, `_extends` too; {} when the file cannot be read
    errors: tuple  # "SOURCE line N: what is wrong": the file cannot be used
    warnings: tuple  # unknown keys, with their line: ignored, the rest of the file applies


def load(text: Optional[str], source: str = CONFIG_PATH, *, organisation: str = "") -> Loaded:
    """Read and check one config file: every problem at once, each with its line.

    `organisation` (owner): the file is a repository's own, where ORGANISATION_SETTINGS are a warning (the App reads
    them from `owner/.github` only).
    """
    text = text or ""
    size = len(text.encode("utf-8", "replace"))
    if size > MAX_FILE_BYTES:
        return Loaded({}, (f"{source} holds {size:,} bytes; a config file may hold at most {MAX_FILE_BYTES:,}.",), ())
    try:
        node, raw = _compose(text)
    except _Refused as error:
        return Loaded({}, (f"{source} line {error.problem_mark.line + 1}: {error.problem}.",), ())
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        return Loaded({}, (f"{source} is not valid YAML{where}: {_cut(problem)}.",), ())
    if raw is None:
        return Loaded({}, (), ())
    if not isinstance(raw, dict):
        return Loaded({}, (f"{source} must hold a mapping of settings, not {type(raw).__name__}.",), ())
    problems = []
    extends = raw.get("_extends")
    if extends is not None and extends is not False and not (isinstance(extends, str) and len(extends) <= MAX_TEXT):
        problems.append(_Problem(("_extends",), f"`_extends: {shown(extends)}` must be `repo`, `owner/repo:path` or false."))
    _build(Config, _settings(raw), problems)
    if organisation:
        problems += [_Problem((key,), f"`{key}` is read from the organisation's file ({organisation}/.github:{CONFIG_PATH}) "
                                      "only, so here it is ignored.", warning=True)
                     for key in ORGANISATION_SETTINGS if key in raw]
    lines = _key_lines(node)

    def located(problem: _Problem) -> str:
        found = [lines[problem.path[:n]] for n in range(len(problem.path), 0, -1) if problem.path[:n] in lines]
        return f"{source}{f' line {found[0]}' if found else ''}: {problem.message}"

    return Loaded(raw, tuple(located(p) for p in problems if not p.warning),
                  tuple(located(p) for p in problems if p.warning))


def parse_mapping(text: Optional[str], source: str = CONFIG_PATH) -> dict:
    """YAML text -> the raw mapping (with `_extends`); ConfigError lists every error, unknown keys pass."""
    loaded = load(text, source)
    if loaded.errors:
        raise ConfigError(*loaded.errors)
    return loaded.raw


def merge(base: dict, override: dict) -> dict:
    """Mappings merge key by key; lists and scalars replace."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _extends_target(extends: str, owner: str) -> tuple:
    """`repo` or `owner/repo:path` -> (owner/repo, path)."""
    target, _, path = extends.partition(":")
    return (target if "/" in target else f"{owner}/{target}", path or CONFIG_PATH)


class Resolved(NamedTuple):
    config: Config
    problems: tuple  # for the reader: errors first, then warnings, at most MAX_PROBLEMS and a count
    defaults_used: bool  # an error made the review fall back to the defaults


def resolve(read: Callable[[str, str], Optional[str]], repo: str, overrides: Optional[dict] = None) -> Resolved:
    """Follow the lookup (repo file, else the organisation's `.github` repo, else defaults) and `_extends`.

    `read(repo, path)` returns a file's text on the default branch, or None when missing or unreadable.
    A repository file extends the organisation default unless it sets `_extends` (false: nothing).
    With an error the defaults apply, so a review never stops on config; warnings leave the settings as read.
    """
    owner = repo.split("/")[0]
    org_default = (f"{owner}/.github", CONFIG_PATH)

    def implicit_parent(location):
        return org_default if location == (repo, CONFIG_PATH) != org_default else None

    def chain(*locations):
        return " -> ".join(_cut(f"{r}:{p}") for r, p in locations)

    location, explicit, followed = (repo, CONFIG_PATH), False, 0
    layers, seen, errors, warnings = [], [], [], []
    while location and not errors:
        followed += explicit
        if location in seen:
            errors.append(f"`_extends` loops: {chain(*seen, location)}. Remove one of the links.")
        elif followed > MAX_EXTENDS:
            errors.append(f"`_extends` follows at most {MAX_EXTENDS} files: {chain(*seen, location)}. "
                          "Extend a file closer to the end of the chain.")
        elif (text := read(*location)) is None:
            if explicit:
                errors.append(f"`_extends` points at {chain(location)}, which cannot be read.")
            location = implicit_parent(location)
        else:
            seen.append(location)
            loaded = load(text, chain(location), organisation=owner if location == (repo, CONFIG_PATH) != org_default else "")
            errors += loaded.errors
            warnings += loaded.warnings
            layers.append(loaded.raw)
            extends = loaded.raw.get("_extends")
            explicit = bool(extends)
            location = _extends_target(extends, owner) if extends else (
                None if extends is False else implicit_parent(location))
    if not errors:
        merged = {}
        for raw in reversed(layers):
            merged = merge(merged, raw)
        try:
            return Resolved(from_mapping(merge(merged, overrides or {})), tuple(capped(warnings)), False)
        except ConfigError as error:
            errors = list(error.args)
    return Resolved(DEFAULT, (DEFAULTS_USED, *capped(errors + warnings)), True)


def organisation(read: Callable[[str, str], Optional[str]], owner: str) -> Resolved:
    """The organisation's settings: its `.github` repository's file and what that extends (the App's rollout controls)."""
    return resolve(read, f"{owner}/.github")


def serves(config: Config, repo: str) -> bool:
    """Whether the organisation's `repositories` globs let the App serve `repo` (owner/name; the globs match the name)."""
    name = repo.split("/", 1)[-1].lower()  # GitHub's names are case-insensitive

    def any_of(patterns) -> bool:
        return matches(name, [pattern.lower() for pattern in patterns])

    return any_of(config.repositories.include) and not any_of(config.repositories.exclude)
