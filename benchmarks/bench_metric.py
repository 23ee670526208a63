"""How long the dashboard takes to compute for a large organisation: 15 months of daily usage in SQLite.

50 API keys x 3 models x 3 service tiers x ~450 days (about 200,000 rows, what the sync stores for
such an organisation): the time to store them, to read them back, to compute the figures and to
render the page. Run: python benchmarks/bench_metric.py
"""

import random
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.metric import compute as metric
from bot.metric import view as metric_view
from bot.app.store import Store

TODAY = date(2026, 11, 25)
KEYS = [f"apikey_{index:02d}" for index in range(50)]


def rows() -> list:
    rng = random.Random(1)
    made, day = [], metric.months_back(TODAY.replace(day=1), 15)
    while day <= TODAY:
        for key in KEYS:
            for model in ("claude-haiku-4-5", "claude-sonnet-4-5", "claude-opus-4-1"):
                for tier in ("standard", "batch", "priority"):
                    made.append(metric.Usage(day, tier, uncached_input=rng.randint(1, 10**6),
                                             output=rng.randint(1, 10**5), api_key_id=key, model=model))
        day += timedelta(days=1)
    return made


def timed(what: str, call):
    started = time.perf_counter()
    result = call()
    print(f"{what:<28} {time.perf_counter() - started:6.2f} s")
    return result


def main() -> None:
    made = rows()
    settings = metric.Accounting(eligible=frozenset(KEYS[:20]), prices={"claude-haiku": {"input": 1, "output": 5}},
                               repos={key: f"acme/repo-{index}" for index, key in enumerate(KEYS)})
    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{folder}/bench.sqlite3")
        print(f"{len(made):,} daily usage rows")
        timed("store (replace_usage)", lambda: store.replace_usage(metric.ADMIN, made))
        loaded = timed("read back (usage)", store.usage)
        figures = timed("compute the figures", lambda: metric.compute(loaded, settings, today=TODAY))
        timed("render the page", lambda: metric_view.dashboard(figures, generated_at=datetime.now(timezone.utc)))
        store.close()


if __name__ == "__main__":
    main()
