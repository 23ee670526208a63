"""Tokens of one suggestion request on the shared design-doc fixtures, and the cost per 1,000 PRs, synchronous and in batches.

Run: python benchmarks/bench_inference.py

The token figures are estimates, not counts. Claude's tokenizer is not public, and the fake API
has no tokenizer (a count_tokens route there would be a guess too), so:
- English prose and Markdown: ~3.5 characters a token on Claude Haiku 4.5's tokenizer;
- claude-haiku-5-5 (the default) and the models from Claude 4.7 on count the same text as about
  30% more tokens (Anthropic's notes on Claude Haiku 5.5);
- the answer schema is counted as prompt text (structured outputs compile it; Anthropic publishes
  no exact overhead for it);
- output: a typical reply, the three answers as JSON with quotes taken from the document; the
  thinking tokens of a model that thinks by default are not included.
Prices: US dollars per million tokens (Anthropic's pricing pages), batch = half.
"""

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core.inference import ANSWER_SCHEMA, DESCRIPTION, prepare

CHARS_PER_TOKEN = 3.5  # Claude Haiku 4.5's tokenizer, English prose and Markdown (an estimate)
NEWER_TOKENIZER = 1.3  # claude-haiku-5-5: ~30% more tokens for the same text
MODELS = {  # model -> (tokens per Haiku 4.5 token, input $/MTok, output $/MTok), prompts under 100K tokens
    "claude-haiku-5-5": (NEWER_TOKENIZER, 0.10, 0.50),
    "claude-haiku-4-5": (1.0, 1.00, 5.00),
}
TARGET = 3_000  # input tokens of a typical PR
DOCS = sorted((ROOT / "tests" / "fixtures" / "design-docs").glob("*.md"))
TEMPLATE = (ROOT / "templates" / "pull_request_template.md").read_text()
DESCRIPTION_TEXT = (
    "## Summary\n\nAdds the job described in the design doc: it reads the queue's backlog, asks Claude for a "
    "label per item and writes the labels back. It runs from the scheduler; results land in the warehouse.\n\n"
    "## Testing\n\nUnit tests for the prompt builder; a dry run against last week's items.\n\n" + TEMPLATE
)


def tokens(chars: int, factor: float) -> float:
    return chars / CHARS_PER_TOKEN * factor


def request_chars(sources) -> int:
    """Characters of everything the request shows the model: system prompt, sources, schema."""
    prompt = prepare(sources)
    return len(prompt.system) + len(prompt.user) + len(json.dumps(ANSWER_SCHEMA, separators=(",", ":")))


def typical_reply_chars(text: str) -> int:
    """A reply with three quotes: the first sentences of 40 characters or more, as Claude would quote them."""
    sentences = [s.strip()[:150] for s in re.split(r"(?<=[.!?])\s+", prepare([("doc", text)]).user) if len(s) >= 40]
    quotes = (sentences + [""] * 3)[:3]
    reply = {"human_waiting": {"answer": "no", "quote": quotes[0]},
             "volume": {"answer": "yes", "quote": quotes[1], "requests_per_day": 2000},
             "latency": {"answer": "no", "quote": quotes[2]}}
    return len(json.dumps(reply))


def main() -> None:
    rows = [("description only", request_chars([(DESCRIPTION, DESCRIPTION_TEXT)]),
             typical_reply_chars(DESCRIPTION_TEXT))]
    for path in DOCS:
        text = path.read_text()
        rows.append((f"PR + {path.name}", request_chars([(DESCRIPTION, DESCRIPTION_TEXT), (path.name, text)]),
                     typical_reply_chars(text)))
        rows.append((f"audit {path.name}", request_chars([(path.name, text)]), typical_reply_chars(text)))
    width = max(len(name) for name, _, _ in rows)
    print(f"{'request':<{width}}  {'in chars':>8}  " + "  ".join(f"{m + ' in/out':>25}" for m in MODELS))
    for name, chars_in, chars_out in rows:
        cells = "  ".join(f"{tokens(chars_in, f):>14,.0f} / {tokens(chars_out, f):>5,.0f} tok"
                          for f, _, _ in MODELS.values())
        print(f"{name:<{width}}  {chars_in:>8,}  {cells}")
    prs = [row for row in rows if not row[0].startswith("audit")]
    mean_in = sum(chars for _, chars, _ in prs) / len(prs)
    mean_out = sum(chars for _, _, chars in prs) / len(prs)
    worst = max(chars for _, chars, _ in prs)
    print(f"\nA PR ({len(prs)} cases above, description with and without each design doc): "
          f"{mean_in:,.0f} characters in on average, at most {worst:,}; {mean_out:,.0f} characters out.")
    for model, (factor, price_in, price_out) in MODELS.items():
        tin, tout, tmax = tokens(mean_in, factor), tokens(mean_out, factor), tokens(worst, factor)
        synchronous = 1000 * (tin * price_in + tout * price_out) / 1e6
        verdict = "under" if tmax < TARGET else "OVER"
        print(f"{model}: ~{tin:,.0f} input and ~{tout:,.0f} output tokens per PR (largest {tmax:,.0f}: {verdict} "
              f"{TARGET:,}); per 1,000 PRs ${synchronous:.2f} synchronous, ${synchronous / 2:.2f} through batches "
              f"(at ${price_in:g}/${price_out:g} per million tokens)")


if __name__ == "__main__":
    main()
