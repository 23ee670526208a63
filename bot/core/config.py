"""`.github/batch-review.yml`: YAML in, a validated frozen Config out (pure)."""

from dataclasses import dataclass, field, fields, replace
from typing import Callable, Optional

import yaml

from bot.core.decision import DEFAULT_VOLUME_THRESHOLD
from bot.core.names import CONFIG_PATH, HANDBOOK_URL, HELPER_URL, Verdict
from bot.fix.model import DEFAULT_HELPER_IMPORT, HELPER_IMPORT

DECIDED_VERDICTS = (Verdict.BATCH_CANDIDATE.value, Verdict.SYNCHRONOUS.value, Verdict.NEEDS_ANSWERS.value)
ALL_VERDICTS = DECIDED_VERDICTS + (Verdict.NOT_APPLICABLE.value,)


class ConfigError(ValueError):
    """A config problem, worded for the person who has to fix the file."""


@dataclass(frozen=True)
class Links:
    handbook: str = HANDBOOK_URL
    helper: str = HELPER_URL


@dataclass(frozen=True)
class Scan:
    max_files: int = 50


@dataclass(frozen=True)
class Inference:
    enabled: bool = True  # takes effect only when an Anthropic API key is configured
    model: str = "claude-haiku-5-5"  # the current Haiku (October 2026)
    max_tokens: int = 1024
    monthly_token_budget: int = 2_000_000  # per repository (the App: the Action has no database to count in)
    pr_token_budget: int = 50_000  # per pull request, counted in the bot's own comment (the Action and the App)
    forks: bool = False  # suggest answers on PRs from forks too


@dataclass(frozen=True)
class MetricConfig:
    eligible: tuple = ()  # API key ids or workspace ids whose traffic is latency-tolerant
    prices: dict = field(default_factory=dict)  # model -> {"input": $/MTok, "output": $/MTok}
    repos: dict = field(default_factory=dict)  # API key id or workspace id -> the repository (or team) it serves
    report_repo: str = ""  # owner/name where the App opens the monthly report as an issue; empty: off


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


DEFAULT = Config()

_CHOICES = {
    "drafts": ("comment", "label-only", "skip"),
    "trigger": ("auto", "always", "checklist-only"),
    "label_answers_from": ("anyone", "reviewers"),
}
_VERDICT_LISTS = {"comment_on": ALL_VERDICTS, "fail_on": DECIDED_VERDICTS}
_SECTIONS = {"links": Links, "scan": Scan, "inference": Inference, "metric": MetricConfig, "cost": CostConfig}


def _type_name(kind) -> str:
    return {bool: "true or false", int: "a whole number", float: "a number", str: "a string",
            tuple: "a list", dict: "a mapping"}[kind]


def _check(key: str, value, default):
    """Validate one leaf against its default's type and the allowed choices; return it normalised."""
    leaf = key.rsplit(".", 1)[-1]
    if leaf in _CHOICES:
        if value not in _CHOICES[leaf]:
            raise ConfigError(f"`{key}: {value!r}` is not allowed; use one of: {', '.join(_CHOICES[leaf])}.")
        return value
    if leaf in _VERDICT_LISTS:
        allowed = _VERDICT_LISTS[leaf]
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or any(item not in allowed for item in items):
            raise ConfigError(f"`{key}: {value!r}` is not allowed; use a list of: {', '.join(allowed)}.")
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
        raise ConfigError(f"`{key}: {value!r}` has the wrong type; it must be {_type_name(kind)}"
                          + (" of strings." if kind is tuple else "."))
    if kind in (int, float) and value < 0:
        raise ConfigError(f"`{key}: {value!r}` must not be negative.")
    return value


def _prices(key: str, value) -> dict:
    """`cost.prices` (and its old name `metric.prices`): model -> {input: dollars per million tokens, output: ...}."""
    ok = isinstance(value, dict) and all(
        isinstance(model, str) and isinstance(price, dict) and set(price) == {"input", "output"}
        and all(isinstance(p, (int, float)) and not isinstance(p, bool) and p >= 0 for p in price.values())
        for model, price in value.items())
    if not ok:
        raise ConfigError(f"`{key}: {value!r}` must map each model to its prices in dollars per million tokens, "
                          "e.g. `claude-sonnet-4-5: {input: 3, output: 15}`.")
    return value


def _repos(key: str, value) -> dict:
    """`metric.repos`: API key id or workspace id -> repository."""
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ConfigError(f"`{key}: {value!r}` must map API key ids or workspace ids to repositories, "
                          "e.g. `apikey_01Rj2N8SVvo6BePZj99NhmiT: acme/enrichment`.")
    return value


def _report_repo(key: str, value) -> str:
    if not isinstance(value, str) or (value and (value.count("/") != 1 or not all(value.split("/")))):
        raise ConfigError(f"`{key}: {value!r}` must be a repository as owner/name, or empty to open no issue.")
    return value


def _helper_import(key: str, value) -> str:
    if not isinstance(value, str) or not HELPER_IMPORT.fullmatch(value):
        raise ConfigError(f"`{key}: {value!r}` must import run_batch, e.g. `from yourpkg.batches import run_batch`.")
    return value


_MAPPINGS = {"cost.prices": _prices, "metric.prices": _prices, "metric.repos": _repos, "metric.report_repo": _report_repo,
             "helper_import": _helper_import}


def _build(cls, raw: dict, prefix: str = ""):
    known = [f.name for f in fields(cls)]
    defaults, values = cls(), {}
    for key, value in raw.items():
        path = f"{prefix}{key}"
        if key not in known:
            raise ConfigError(f"`{path}` is not a batch-review setting; known here: {', '.join(known)}.")
        if key in _SECTIONS and not prefix:
            if not isinstance(value, dict):
                raise ConfigError(f"`{path}: {value!r}` must be a mapping with keys: "
                                  f"{', '.join(f.name for f in fields(_SECTIONS[key]))}.")
            values[key] = _build(_SECTIONS[key], value, f"{path}.")
        else:
            values[key] = _check(path, value, getattr(defaults, key))
    return cls(**values)


def parse_mapping(text: Optional[str], source: str = CONFIG_PATH) -> dict:
    """YAML text -> the raw mapping (with `_extends`), checked; empty text is an empty mapping."""
    try:
        raw = yaml.safe_load(text or "")
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError(f"{source} is not valid YAML{where}: {problem}.") from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{source} must hold a mapping of settings, not {type(raw).__name__}.")
    extends = raw.get("_extends")
    if extends is not None and extends is not False and not isinstance(extends, str):
        raise ConfigError(f"{source}: `_extends: {extends!r}` must be `repo`, `owner/repo:path` or false.")
    try:
        _build(Config, {k: v for k, v in raw.items() if k != "_extends"})
    except ConfigError as error:
        raise ConfigError(f"{source}{_line_of(text, error)}: {error}") from None
    return raw


def _line_of(text: str, error: ConfigError) -> str:
    """' line N' of the first top-level key the error names, when it can be found."""
    message = str(error)
    key = message[1 : message.find("`", 1)].split(":")[0].split(".")[0] if message.startswith("`") else ""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    for key_node, _ in node.value:
        if key_node.value == key:
            return f" line {key_node.start_mark.line + 1}"
    return ""


def merge(base: dict, override: dict) -> dict:
    """Mappings merge key by key; lists and scalars replace."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def from_mapping(raw: dict) -> Config:
    config = _build(Config, {k: v for k, v in raw.items() if k != "_extends"})
    if not config.metric.prices:
        return config
    # `metric.prices` is the old name of `cost.prices`; `cost.prices` wins where both name a model.
    return replace(config, cost=replace(config.cost, prices={**config.metric.prices, **config.cost.prices}))


def _extends_target(extends: str, owner: str) -> tuple:
    """`repo` or `owner/repo:path` -> (owner/repo, path)."""
    target, _, path = extends.partition(":")
    return (target if "/" in target else f"{owner}/{target}", path or CONFIG_PATH)


def resolve(read: Callable[[str, str], Optional[str]], repo: str, overrides: Optional[dict] = None):
    """Follow the lookup (repo file, else the organisation's `.github` repo, else defaults) and `_extends`.

    `read(repo, path)` returns a file's text on the default branch, or None when missing or unreadable.
    A repository file extends the organisation default unless it sets `_extends` (false: nothing).
    Returns (config, problems); with problems the defaults apply, so a review never stops on config.
    """
    owner = repo.split("/")[0]
    org_default = (f"{owner}/.github", CONFIG_PATH)

    def implicit_parent(location):
        return org_default if location == (repo, CONFIG_PATH) != org_default else None

    location, explicit = (repo, CONFIG_PATH), False
    layers, seen = [], []
    try:
        while location:
            if location in seen:
                chain = " -> ".join(f"{r}:{p}" for r, p in seen + [location])
                raise ConfigError(f"`_extends` loops: {chain}. Remove one of the links.")
            seen.append(location)
            text = read(*location)
            if text is None:
                if explicit:
                    raise ConfigError(f"`_extends` points at {location[0]}:{location[1]}, which cannot be read.")
                location = implicit_parent(location)
                continue
            raw = parse_mapping(text, f"{location[0]}:{location[1]}")
            layers.append(raw)
            extends = raw.get("_extends")
            explicit = bool(extends)
            location = _extends_target(extends, owner) if extends else (
                None if extends is False else implicit_parent(location))
        merged = {}
        for raw in reversed(layers):
            merged = merge(merged, raw)
        return from_mapping(merge(merged, overrides or {})), []
    except ConfigError as error:
        return DEFAULT, [str(error)]
