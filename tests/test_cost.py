"""Dollars per workload (pure): the one price table, the monthly figures, their basis, and the comment's sentence."""

import json
from dataclasses import replace
from textwrap import dedent

import jsonschema
import pytest

from bot.core import cost, names
from bot.core.config import CostConfig, from_mapping, load, parse_mapping
from bot.core.cost import PRICES_READ, Price, estimate, figure, price
from bot.core.render import render_comment
from bot.core.workload import Label, assess, document
from bot.scan.cache import from_cache, to_cache
from bot.scan.model import Call, FileChange, ScanResult, Signal
from bot.scan.scanner import scan
from tests.checklists import filled
from tests.conftest import load_schema
from tests.test_cli import run_cli

SONNET = CostConfig()  # the defaults: claude-sonnet-5-5 at $2 / $10, 1,000 input and 500 output tokens


def test_the_built_in_table_is_the_one_read_from_anthropics_pages():
    read = {model: (p.input, p.output) for model, p in ((m, price(m)) for m in cost.BUILT_IN)}
    assert read == {"claude-fable-5-1": (10, 50), "claude-opus-5-5": (4, 20), "claude-opus-5": (5, 25),
                    "claude-sonnet-5-5": (2, 10), "claude-sonnet-4-5": (3, 15), "claude-haiku-5-5": (0.10, 0.50),
                    "claude-haiku-4-5": (1, 5)}
    assert {price(m).source for m in cost.BUILT_IN} == {PRICES_READ} and cost.BATCH_SHARE == 0.5


def test_prices_match_exactly_else_by_the_longest_prefix_and_the_config_comes_first():
    assert price("claude-opus-5-5-20261001") == (4, 20, PRICES_READ)  # not claude-opus-5's
    assert price("claude-opus-5-20260724") == (5, 25, PRICES_READ)
    assert price("us.anthropic.claude-sonnet-4-5-20250929-v1:0") == (3, 15, PRICES_READ)  # Bedrock's id
    configured = {"claude-haiku": {"input": 2, "output": 9}, "claude-x": {"input": 1, "output": 5}}
    assert price("claude-haiku-4-5", configured) == (2, 9, "cost.prices")  # a configured prefix beats the built-in id
    assert price("claude-x-1", configured) == (1, 5, "cost.prices")
    assert price("gpt-5", configured) is None and price(None) is None and price("") is None


def test_numbers_on_both_sides_and_the_saving():
    figure_ = estimate(2000, True, threshold=300, settings=SONNET)
    # 2,000 a day x 30 days x (1,000 x $2 + 500 x $10) / 1M = $420 synchronous, half through batches
    assert (figure_.usd_month_sync, figure_.usd_month_batch, figure_.saving) == pytest.approx((420, 210, 210))
    assert not figure_.at_least and figure_.model == "claude-sonnet-5-5"
    older = estimate(2000, True, threshold=300, settings=replace(SONNET, model="claude-sonnet-4-5"))
    assert (older.usd_month_sync, older.usd_month_batch) == pytest.approx((630, 315))
    low = estimate(50, False, threshold=300, settings=SONNET)  # a low volume with a number is costed too
    assert low.usd_month_sync == pytest.approx(10.5)
    assert figure(figure_, candidate=True) == ("At about 2,000 requests a day on `claude-sonnet-5-5` this costs about "
                                              "$420 a month synchronously, $210 through batches: $210 a month saved.")
    assert figure(low, candidate=False).endswith("a difference of $5.25 a month.")


def test_a_volume_only_above_the_threshold_is_a_lower_bound_and_no_volume_no_figure():
    least = estimate(None, True, threshold=500, settings=SONNET)
    assert least.at_least and least.requests_per_day == 500 and least.usd_month_sync == pytest.approx(105)
    assert names.COST_BASIS["at-least"].format(per_day=500) in least.basis
    assert figure(least, candidate=True) == ("At more than 500 requests a day on `claude-sonnet-5-5` this costs at least "
                                             "$105 a month synchronously, $52 through batches: at least $52 a month saved.")
    assert estimate(None, False, threshold=300, settings=SONNET) is None


def test_the_basis_says_what_was_read_and_what_is_assumed():
    assumed = estimate(2000, True, threshold=300, settings=SONNET).basis
    assert assumed[:4] == (names.COST_BASIS["volume"].format(per_day=2000),
                           names.COST_BASIS["input"].format(tokens=1000), names.COST_BASIS["output"].format(tokens=500),
                           names.COST_BASIS["model"].format(model="claude-sonnet-5-5"))
    assert "assumes 1,000 input tokens a request; set `cost.input_tokens`" in assumed
    assert cost.PRICES_PAGE in assumed[4]
    settings = replace(SONNET, input_tokens=3000, output_tokens=800, model="claude-haiku-4-5")
    given = estimate(2000, True, threshold=300, settings=settings)
    assert names.COST_BASIS["input-set"].format(tokens=3000) in given.basis
    assert names.COST_BASIS["model-set"].format(model="claude-haiku-4-5") in given.basis
    assert given.usd_month_sync == pytest.approx(2000 * 30 * (3000 * 1 + 800 * 5) / 1e6)


def at(model=None, max_tokens=None):
    return Call("jobs/enrich.py", 12, "messages.create", changed=True, model=model, max_tokens=max_tokens)


def test_the_call_site_picks_the_model_and_a_smaller_max_tokens_caps_the_output():
    opus = estimate(2000, True, threshold=300, settings=SONNET, call=at("claude-opus-5-5", 200))
    assert (opus.model, opus.output_tokens) == ("claude-opus-5-5", 200)
    assert opus.usd_month_sync == pytest.approx(2000 * 30 * (1000 * 4 + 200 * 20) / 1e6)
    assert names.COST_BASIS["model-read"].format(model="claude-opus-5-5", at="jobs/enrich.py:12") in opus.basis
    assert names.COST_BASIS["max-tokens"].format(tokens=200, at="jobs/enrich.py:12") in opus.basis
    roomy = estimate(2000, True, threshold=300, settings=SONNET, call=at(max_tokens=4096))
    assert roomy.output_tokens == 500 and roomy.model == "claude-sonnet-5-5"
    odd = estimate(2000, True, threshold=300, settings=SONNET, call=at("claude `x` @team"))
    assert odd.model == "claude-sonnet-5-5"  # not a model id: never shown, the setting applies


def test_an_unknown_model_says_so_and_names_the_setting():
    unknown = estimate(2000, True, threshold=300, settings=replace(SONNET, model="claude-nova-9"))
    assert unknown.price is None and unknown.usd_month_sync is None and unknown.saving is None
    assert names.COST_BASIS["unpriced"].format(model="claude-nova-9") in unknown.basis
    assert "`cost.prices`" in figure(unknown, candidate=True) and "no price" in figure(unknown, candidate=True)
    assert unknown.document()["usd_month_sync"] is None
    priced = estimate(2000, True, threshold=300, settings=replace(
        SONNET, model="claude-nova-9", prices={"claude-nova": {"input": 1, "output": 1}}))
    assert priced.price == Price(1, 1, "cost.prices") and priced.usd_month_sync == pytest.approx(90)


def test_cost_settings_and_the_deprecated_metric_prices_feed_one_table():
    config = from_mapping(parse_mapping(
        "cost: {model: claude-haiku-4-5, input_tokens: 2000, output_tokens: 100, prices: {claude-a: {input: 1, output: 2}}}\n"
        "metric: {prices: {claude-a: {input: 9, output: 9}, claude-b: {input: 3, output: 4}}}\n"))
    assert (config.cost.model, config.cost.input_tokens, config.cost.output_tokens) == ("claude-haiku-4-5", 2000, 100)
    assert config.cost.prices == {"claude-a": {"input": 1, "output": 2}, "claude-b": {"input": 3, "output": 4}}
    assert from_mapping({}).cost == SONNET and SONNET.model == "claude-sonnet-5-5"
    loaded = load("cost: {model: claude-haiku-4-5}\nmetric:\n  prices: {claude-b: {input: 3, output: 4}}\n")
    assert loaded.errors == () and len(loaded.warnings) == 1
    assert "line 3: `metric.prices` is the old name of `cost.prices`; it is still read" in loaded.warnings[0]
    assert load("cost: {prices: {claude-b: {input: 3, output: 4}}}\n").warnings == ()


def review_with(scan_calls=(), **config):
    return assess(filled(volume_text="2,000", human_waiting="no", volume="yes", latency="no"),
                  config=from_mapping(config), scan=ScanResult(tuple(scan_calls)))


def test_workloads_carry_the_figure_and_the_document_sums_the_candidates():
    loop = Signal("loop", "inside a loop over `rows`", 10, True)
    review = review_with([replace(at("claude-opus-5-5"), signals=(loop,))])
    doc = document(review)
    assert doc["workloads"][0]["cost"]["model"] == "claude-opus-5-5"
    assert doc["workloads"][0]["cost"]["usd_month_sync"] == pytest.approx(2000 * 30 * (1000 * 4 + 500 * 20) / 1e6)
    assert doc["savings_usd_month"] == pytest.approx(420)
    labelled = assess(filled(volume_text="2,000", human_waiting="no", latency="no"), labels=[Label("batch/high-volume")])
    assert labelled.workloads[0].cost.requests_per_day == 2000  # a label that agrees keeps the stated number


def test_the_figure_never_changes_the_verdict_or_the_label():
    priced, unpriced = review_with(), review_with(cost={"model": "claude-nova-9"})
    assert priced.workloads[0].cost.saving and unpriced.workloads[0].cost.saving is None
    assert priced.verdict is unpriced.verdict and priced.workloads[0].decision == unpriced.workloads[0].decision


def test_the_comment_shows_the_sentence_and_its_basis():
    review = review_with()
    text = render_comment(review, from_mapping({}))
    assert "At about 2,000 requests a day on `claude-sonnet-5-5` this costs about $420 a month synchronously" in text
    assert "assumes 1,000 input tokens a request; set `cost.input_tokens`" in text
    assert names.COST_NOTE.format(days=cost.DAYS_A_MONTH) in text


# --- what the scanner reads at the call site, and what the cache keeps of it ----------------------

def test_the_scanner_reads_a_literal_model_a_module_constant_and_a_literal_max_tokens():
    source = dedent('''
        import anthropic
        MODEL = "claude-opus-5-5"
        client = anthropic.Anthropic()
        for row in rows:
            client.messages.create(model=MODEL, max_tokens=256, messages=[])
        client.messages.create(model="claude-haiku-4-5", max_tokens=LIMIT, messages=[])
        client.messages.create(model=pick(), max_tokens=1024, messages=[])
    ''')
    found = scan([FileChange("jobs/enrich.py", source)]).calls
    assert [(c.model, c.max_tokens) for c in found] == [("claude-opus-5-5", 256), ("claude-haiku-4-5", None),
                                                         (None, 1024)]
    value = json.loads(json.dumps(to_cache(ScanResult(found), "abc123")))
    assert from_cache(value, "abc123").calls == found  # a re-run from the comment's state prices the same


def test_the_pr_figure_uses_the_call_the_comment_names():
    source = dedent('''
        import anthropic
        client = anthropic.Anthropic()
        for row in rows:
            client.messages.create(model="claude-haiku-4-5", max_tokens=300, messages=[])
    ''')
    review = assess(filled(volume_text="2,000", human_waiting="no", latency="no"),
                    scan=scan([FileChange("jobs/enrich.py", source)]))
    figure_ = review.workloads[0].cost
    assert (figure_.model, figure_.output_tokens) == ("claude-haiku-4-5", 300)
    assert figure_.usd_month_sync == pytest.approx(2000 * 30 * (1000 * 1 + 300 * 5) / 1e6)


# --- through the command line ---------------------------------------------------------------------

def test_check_json_carries_the_cost_and_the_savings(tmp_path):
    config = tmp_path / "batch-review.yml"
    config.write_text("cost: {model: claude-sonnet-4-5, input_tokens: 2000}\n")
    candidate = filled(volume_text="~2,000/day", human_waiting="no", latency="no")
    result = run_cli("check", "-", "--config", str(config), "--format", "json", stdin=candidate)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    jsonschema.validate(doc, load_schema("review.schema.json"))
    (workload,) = doc["workloads"]
    # 2,000 a day x 30 x (2,000 x $3 + 500 x $15) / 1M = $810 synchronous, $405 through batches
    assert {k: workload["cost"][k] for k in ("model", "requests_per_day", "input_tokens", "output_tokens",
                                             "usd_month_sync", "usd_month_batch")} == {
        "model": "claude-sonnet-4-5", "requests_per_day": 2000, "input_tokens": 2000, "output_tokens": 500,
        "usd_month_sync": 810.0, "usd_month_batch": 405.0}
    assert "2,000 input tokens a request (`cost.input_tokens`)" in workload["cost"]["basis"]
    assert doc["savings_usd_month"] == 405.0 and doc["verdict"] == "batch-candidate"
    above = run_cli("check", "-", "--format", "json", stdin=filled(human_waiting="no", volume="yes", latency="yes"))
    doc = json.loads(above.stdout)
    assert doc["workloads"][0]["cost"]["requests_per_day"] == 300 and doc["workloads"][0]["cost"]["usd_month_sync"] == 63
    assert doc["savings_usd_month"] is None and doc["verdict"] == "synchronous"  # not a candidate: nothing saved
    blank = json.loads(run_cli("check", "-", "--format", "json", stdin=filled(human_waiting="no")).stdout)
    assert blank["workloads"][0]["cost"] is None
    text = run_cli("check", "-", "--config", str(config), stdin=candidate).stdout  # readable text, the default
    assert ("At about 2,000 requests a day on `claude-sonnet-4-5` this costs about $810 a month synchronously, "
            "$405 through batches: $405 a month saved.") in text and "`cost.input_tokens`" in text
