"""How many PR bodies a second the parse-decide-render path handles, on one core.

Run: python benchmarks/bench_review.py
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.core.names import option_marker
from bot.core.render import render_comment
from bot.core.workload import assess
from tests.checklists import filled  # noqa: E402


def typical_body(size=3_000) -> str:
    """A realistic description: prose, a code block, and our checklist filled in."""
    section = filled(volume_text="~2,000/day", human_waiting="no", volume="yes", latency="no")
    prose = "This change adds a nightly job that enriches listings with Claude. " * 10
    code = "```python\nfor row in rows:\n    client.messages.create(**params(row))\n```\n"
    body = f"## Summary\n\n{prose}\n\n{code}\n{section}"
    return body + "\n" + "Notes: " + "x" * max(0, size - len(body) - 8)


def adversarial_body(size=1_000_000) -> str:
    unit = "- [x] `<!--` > ~~~ " + option_marker("volume", "yes") + " <!-- \n"
    return (unit * (size // len(unit) + 1))[:size]


def rate(body: str, seconds: float = 2.0) -> float:
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        render_comment(assess(body))
        count += 1
    return count / (time.perf_counter() - start)


if __name__ == "__main__":
    render_comment(assess(typical_body()))  # warm the template cache
    for name, body in (("typical", typical_body()), ("1 MB checklist", typical_body(1_000_000)),
                       ("1 MB adversarial", adversarial_body())):
        per_second = rate(body)
        print(f"{name:>17} body ({len(body):>9,} chars): {per_second:>8,.1f} bodies/s  "
              f"({1000 / per_second:.2f} ms each)")
