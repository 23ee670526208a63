"""What a workload costs a month, synchronously and through batches (pure).

The one price table of the project: the PR's figures, the audit and the metric all price a model
through `price()`, which reads `cost.prices` from the config (exact id or prefix) before the
built-in table. Estimates are deliberately simple: requests a day times tokens a request times the
price, over a month of `DAYS_A_MONTH` days; thinking tokens are billed as output, and prompt
caching (which lowers both figures) is left out.
"""

import re
from dataclasses import dataclass
from typing import Mapping, NamedTuple, Optional

from bot.core import names
from bot.core.config import DEFAULT, CostConfig
from bot.scan.model import Call, short_code

DAYS_A_MONTH = 30
BATCH_SHARE = 0.5  # the Message Batches API bills input and output at half the standard price
PRICES_READ = "2026-12-03"
PRICES_PAGE = "https://platform.claude.com/docs/en/about-claude/pricing"
MODELS_PAGE = "https://platform.claude.com/docs/about-claude/models/overview"
# Standard (synchronous) dollars per million tokens, input / output, read on PRICES_READ from
# PRICES_PAGE (Fable 5.1, Opus 5, Sonnet 4.5, Haiku 4.5) and MODELS_PAGE (Opus 5.5, Sonnet 5.5, Haiku 5.5).
BUILT_IN = {
    "claude-fable-5-1": (10, 50),
    "claude-opus-5-5": (4, 20),
    "claude-opus-5": (5, 25),
    "claude-sonnet-5-5": (2, 10),
    "claude-sonnet-4-5": (3, 15),
    "claude-haiku-5-5": (0.10, 0.50),  # prompts up to 100K tokens; longer prompts cost five times as much
    "claude-haiku-4-5": (1, 5),
}
CONFIGURED = "cost.prices"  # Price.source of a price from the config
MODEL_ID = re.compile(r"[A-Za-z0-9][\w.:@/-]{0,99}")  # a model id the scanner may pass on: no spaces or Markdown


class Price(NamedTuple):
    input: float  # dollars per million input tokens, standard API
    output: float
    source: str  # CONFIGURED, or the date the built-in price was read


def _match(model: str, table: Mapping) -> Optional[str]:
    """The table's key for a model: its own entry, else the longest key it starts with."""
    if model in table:
        return model
    prefixes = [key for key in table if model.startswith(key)]
    return max(prefixes, key=len) if prefixes else None


def price(model: Optional[str], configured: Optional[Mapping] = None) -> Optional[Price]:
    """A model's standard price: `cost.prices` first, then the built-in table; None when neither knows it.

    A provider's prefix (`us.anthropic.claude-...` on Bedrock) is looked past when the id itself is unknown.
    """
    if not model:
        return None
    configured = configured or {}
    for name in dict.fromkeys((model, model[model.find("claude"):] if "claude" in model else model)):
        key = _match(name, configured)
        if key:
            return Price(float(configured[key]["input"]), float(configured[key]["output"]), CONFIGURED)
        key = _match(name, BUILT_IN)
        if key:
            return Price(*map(float, BUILT_IN[key]), PRICES_READ)
    return None


def usd(price_: Price, input_tokens: float, output_tokens: float) -> float:
    """Dollars at the standard price."""
    return (input_tokens * price_.input + output_tokens * price_.output) / 1_000_000


def dollars(amount: float) -> str:
    return f"${amount:,.0f}" if amount >= 10 else f"${amount:,.2f}"


@dataclass(frozen=True)
class Estimate:
    """A workload's monthly cost; `basis` says, one sentence each, which inputs were read and which assumed."""

    model: str
    requests_per_day: float
    input_tokens: int
    output_tokens: int
    price: Optional[Price]  # None: the model is not in the price table
    at_least: bool  # the volume is known only to be above the threshold: the figures are lower bounds
    basis: tuple

    @property
    def usd_month_sync(self) -> Optional[float]:
        if self.price is None:
            return None
        return self.requests_per_day * DAYS_A_MONTH * usd(self.price, self.input_tokens, self.output_tokens)

    @property
    def usd_month_batch(self) -> Optional[float]:
        sync = self.usd_month_sync
        return None if sync is None else sync * BATCH_SHARE

    @property
    def saving(self) -> Optional[float]:
        sync = self.usd_month_sync
        return None if sync is None else sync - self.usd_month_batch

    def document(self) -> dict:
        """`workloads[].cost` in the review JSON (bot/schemas/review.schema.json)."""
        rounded = {key: None if value is None else round(value, 2)
                   for key, value in (("usd_month_sync", self.usd_month_sync), ("usd_month_batch", self.usd_month_batch))}
        return {"model": self.model, "requests_per_day": self.requests_per_day, "input_tokens": self.input_tokens,
                "output_tokens": self.output_tokens, **rounded, "basis": list(self.basis)}


def estimate(per_day: Optional[float], above: bool, *, threshold: float, settings: CostConfig = DEFAULT.cost,
             call: Optional[Call] = None) -> Optional[Estimate]:
    """The monthly cost of a workload with a volume: `per_day` requests, or only `above` the threshold.

    `call` is the call site the scanner read: its literal model picks the price (else `cost.model`),
    and its literal `max_tokens` caps the output tokens.
    """
    if per_day is None and not above:
        return None
    basis, defaults = names.COST_BASIS, CostConfig()
    at_least = per_day is None
    requests = threshold if at_least else per_day
    lines = [basis["at-least" if at_least else "volume"].format(per_day=requests)]
    lines.append(basis["input" if settings.input_tokens == defaults.input_tokens else "input-set"].format(
        tokens=settings.input_tokens))
    output = settings.output_tokens
    where = short_code(f"{call.path}:{call.line}", 200) if call else ""
    if call and call.max_tokens is not None and call.max_tokens < output:
        output = call.max_tokens
        lines.append(basis["max-tokens"].format(tokens=output, at=where))
    else:
        lines.append(basis["output" if output == defaults.output_tokens else "output-set"].format(tokens=output))
    read = call.model if call and call.model and MODEL_ID.fullmatch(call.model) else None
    model = read or settings.model
    if read:
        lines.append(basis["model-read"].format(model=model, at=where))
    else:
        lines.append(basis["model" if model == defaults.model else "model-set"].format(model=model))
    found = price(model, settings.prices)
    if found is None:
        lines.append(basis["unpriced"].format(model=model))
    else:
        kind = "price-set" if found.source == CONFIGURED else "price"
        lines.append(basis[kind].format(model=model, input=found.input, output=found.output, read=found.source,
                                        page=PRICES_PAGE))
    return Estimate(model, requests, settings.input_tokens, output, found, at_least, tuple(lines))


def figure(estimate_: Estimate, candidate: bool) -> str:
    """The sentence the comment shows: plain text, code between backticks."""
    kind = "at-least" if estimate_.at_least else "about"
    volume = names.COST_VOLUME[kind].format(per_day=estimate_.requests_per_day)
    if estimate_.price is None:
        return names.COST_UNPRICED.format(volume=volume, model=estimate_.model)
    least = names.COST_QUALIFIER[kind]
    return names.COST_FIGURE.format(
        volume=volume, model=estimate_.model, qualifier=least, sync=dollars(estimate_.usd_month_sync),
        batch=dollars(estimate_.usd_month_batch),
        difference=names.COST_DIFFERENCE[candidate].format(qualifier=least if estimate_.at_least else "",
                                                           saving=dollars(estimate_.saving)))
