"""`batch-review check` on the bundled sample, whole process, beside `python -c "import yaml, jinja2"`.

Runs both 15 times, interleaved (the machine's load hits both alike), and prints each median and
their ratio; the goal is a ratio of at most 1.1. A 1 MB body's whole command is timed too (goal 0.3 s).

Run: python benchmarks/bench_cli.py
"""

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "nightly-enrichment-pr.md"
RUNS = 15


def wall(command: list) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
    return time.perf_counter() - start


def main() -> None:
    check = [sys.executable, "-m", "bot.cli", "check", str(SAMPLE)]
    imports = [sys.executable, "-c", "import yaml, jinja2"]
    with tempfile.NamedTemporaryFile("w", suffix=".md") as big:
        big.write(SAMPLE.read_text() + "\n" + "lorem ipsum dolor sit amet\n" * 38_000)
        big.flush()
        large = [sys.executable, "-m", "bot.cli", "check", big.name]
        times = {"check": [], "imports": [], "large": []}
        for _ in range(RUNS):
            for name, command in (("check", check), ("imports", imports), ("large", large)):
                times[name].append(wall(command))
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"python -c 'import yaml, jinja2'   median {medians['imports'] * 1000:6.0f} ms")
    print(f"batch-review check (sample)      median {medians['check'] * 1000:6.0f} ms  "
          f"ratio {medians['check'] / medians['imports']:.2f} (goal <= 1.10)")
    print(f"batch-review check (1 MB body)   median {medians['large'] * 1000:6.0f} ms  (goal <= 300 ms)")


if __name__ == "__main__":
    main()
