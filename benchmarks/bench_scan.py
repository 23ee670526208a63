"""How fast the diff scan is: the selector over a 3,000-file PR, then files and lines scanned per second.

A synthetic but realistic mix: 70% Python and 30% TypeScript, 200-600 lines each, each with a
patch of two hunks; 5% of the files call Claude (in loops, comprehensions, pools, handlers).
Run: python benchmarks/bench_scan.py
"""

import random
import sys
import time
from collections import namedtuple
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.scan.model import ALL, FileChange
from bot.scan.scanner import scan
from bot.scan.diff import select, to_change

Listed = namedtuple("Listed", "path status patch")
FILES = 3_000
CLAUDE_SHARE = 0.05

PY_BLOCK = '''
def {name}(records, limit=100):
    """Filter and shape the {name} records."""
    kept = [r for r in records if r.get("status") == "active"][:limit]
    totals = {{}}
    for record in kept:
        key = record["owner"], record["kind"]
        totals[key] = totals.get(key, 0) + record.get("amount", 0)
    while len(kept) > limit:
        kept.pop()
    return sorted(totals.items(), key=lambda item: -item[1])

'''
PY_CLAUDE = '''
def {name}(rows):
    out = []
    for row in rows:
        reply = client.messages.create(model="claude-haiku-4-5", max_tokens=200,
                                       messages=[{{"role": "user", "content": row}}])
        out.append(reply.content[0].text)
    with ThreadPoolExecutor(8) as pool:
        out += list(pool.map(ask, rows))
    return [client.messages.create(model=MODEL, max_tokens=5, messages=[r]) for r in rows[:10]]

'''
TS_BLOCK = '''
export function {name}(records: Item[], limit = 100): Item[] {{
  // keep the active ones: "status" === 'active'
  const kept = records.filter((r) => r.status === "active").slice(0, limit);
  for (const record of kept) {{
    record.total = (record.total ?? 0) + record.amount / 100;
  }}
  return kept.map((r) => ({{ ...r, label: `${{r.owner}}/${{r.kind}}` }}));
}}

'''
TS_CLAUDE = '''
export async function {name}(rows: string[]) {{
  for (const row of rows) {{
    await client.messages.create({{ model: "claude-haiku-4-5", max_tokens: 200, messages: [row] }});
  }}
  return Promise.all(rows.map((r) => client.messages.create({{ max_tokens: 5, messages: [r] }})));
}}

'''


def synthetic_pr(seed: int = 7) -> list:
    """(listed file, text) pairs of a 3,000-file pull request."""
    rng = random.Random(seed)
    pairs = []
    for index in range(FILES):
        python = rng.random() < 0.7
        calls = rng.random() < CLAUDE_SHARE
        block, claude = (PY_BLOCK, PY_CLAUDE) if python else (TS_BLOCK, TS_CLAUDE)
        header = ("import anthropic\nfrom concurrent.futures import ThreadPoolExecutor\nclient = anthropic.Anthropic()\n"
                  "MODEL = 'claude-sonnet-4-5'\n" if python else
                  'import Anthropic from "@anthropic-ai/sdk";\nconst client = new Anthropic();\n') if calls else ""
        parts = [header]
        for part in range(rng.randint(15, 45)):
            parts.append((claude if calls and part % 7 == 3 else block).format(name=f"step_{index}_{part}"))
        text = "".join(parts)
        lines = text.splitlines()
        hunks = []
        for start in sorted(rng.sample(range(1, len(lines) - 12), 2)):
            body = [" " + lines[start - 1]] + ["+" + line for line in lines[start:start + 10]] + [" " + lines[start + 10]]
            hunks.append(f"@@ -{start},2 +{start},12 @@\n" + "\n".join(body))
        path = f"{'svc' if python else 'web/src'}/{'jobs/' if index % 50 == 0 else ''}mod_{index}.{'py' if python else 'ts'}"
        pairs.append((Listed(path, "modified", "\n".join(hunks)), text))
    return pairs


def timed(function, repeat: int = 3):
    best, value = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        value = function()
        best = min(best, time.perf_counter() - start)
    return best, value


if __name__ == "__main__":
    pairs = synthetic_pr()
    listed = [item for item, _ in pairs]
    texts = {item.path: text for item, text in pairs}
    total_lines = sum(text.count("\n") for text in texts.values())
    patch_bytes = sum(len(item.patch) for item in listed)
    print(f"synthetic PR: {FILES:,} files, {total_lines:,} lines, {patch_bytes / 1e6:.1f} MB of patches, "
          f"{sum('claude' in t for t in texts.values())} files call Claude")

    seconds, selection = timed(lambda: select(listed))
    print(f"selector over every patch:    {seconds * 1000:8.1f} ms  ({FILES / seconds:>9,.0f} files/s); "
          f"reads {len(selection.fetch)} files, partial={selection.partial}")

    def scan_selected(selection):
        return scan([to_change(item, texts[item.path]) for item in selection.fetch])

    seconds, result = timed(lambda: scan_selected(selection))
    lines = sum(texts[item.path].count("\n") for item in selection.fetch)
    print(f"scan of the 50 read (capped): {seconds * 1000:8.1f} ms  ({len(selection.fetch) / seconds:>9,.0f} files/s, "
          f"{lines / seconds:>9,.0f} lines/s); {len(result.calls)} calls, workload={result.workload}")

    uncapped = select(listed, max_files=FILES)
    seconds, result = timed(lambda: scan_selected(uncapped))
    lines = sum(texts[item.path].count("\n") for item in uncapped.fetch)
    print(f"scan of all {len(uncapped.fetch)} that qualify: {seconds * 1000:8.1f} ms  "
          f"({len(uncapped.fetch) / seconds:>9,.0f} files/s, {lines / seconds:>9,.0f} lines/s); {len(result.calls)} calls")

    seconds, result = timed(lambda: scan(FileChange(path, text, ALL) for path, text in texts.items()), repeat=1)
    print(f"whole checkout (every line):  {seconds * 1000:8.1f} ms  ({FILES / seconds:>9,.0f} files/s, "
          f"{total_lines / seconds:>9,.0f} lines/s); {len(result.calls)} calls")
