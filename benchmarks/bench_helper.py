"""run_batch at full scale against the fake API: wall time, peak memory and batches made.

Run: python benchmarks/bench_helper.py            (100,000 requests of ~1 KB, then ~300 MB of ~100 KB requests)
     python benchmarks/bench_helper.py N BYTES    (N requests of about BYTES each)

Each scenario runs in its own process, and the fake API in another, so peak RSS is the helper's own.
"""

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SCENARIOS = [(100_000, 1_000), (3_000, 100_000)]
GOALS = {(100_000, 1_000): " (goal: under 250 MB)"}  # issue 13; it was 597 MB before the body was built from stored JSON


def scenario(count: int, size: int) -> dict:
    import anthropic

    from bot.helper import run_batch

    fake = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_anthropic"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        client = anthropic.Anthropic(base_url=fake.stdout.readline().strip(), api_key="bench", max_retries=0)
        filler = "lorem ipsum " * (size // 12)

        def params(n):  # about `size` bytes once serialized
            return {
                "model": "claude-haiku-4-5",
                "max_tokens": 64,
                "messages": [{"role": "user", "content": f"request {n}: {filler}"}],
            }

        baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as store:
            with run_batch(range(count), params, job="bench", client=client, store=store, poll=0.05) as result:
                assert result.ok and len(result) == count, result.counts
                tokens = result.usage["input_tokens"]
            batches = json.loads((Path(store) / "bench" / "manifest.json").read_text())["batches"]
        assert max(batch["bytes"] for batch in batches) < 256_000_000  # the API's limit, with the helper's margin
        wall = time.perf_counter() - start
    finally:
        fake.stdin.close()
        fake.wait()
    return {
        "requests": count,
        "request_bytes": size,
        "wall_seconds": round(wall, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "rss_before_mb": round(baseline / 1024),
        "batches": len(batches),
        "largest_batch_mb": round(max(batch["bytes"] for batch in batches) / 1e6, 1),
        "input_tokens": tokens,
    }


def main(argv) -> None:
    if argv:
        print(json.dumps(scenario(int(argv[0]), int(argv[1]))))
        return
    for count, size in SCENARIOS:
        child = subprocess.run(
            [sys.executable, __file__, str(count), str(size)], capture_output=True, text=True, check=True
        )
        figures = json.loads(child.stdout)
        print(
            f"{figures['requests']:,} requests of ~{figures['request_bytes']:,} B: "
            f"{figures['wall_seconds']} s, peak RSS {figures['peak_rss_mb']} MB{GOALS.get((count, size), '')} "
            f"({figures['rss_before_mb']} MB before the run), batches made: {figures['batches']}, "
            f"largest {figures['largest_batch_mb']} MB (limit 256 MB)"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
