"""How often the scanner is right, per file, on the labelled corpus in tests/scan_corpus.

A file is labelled `bulk` when a person reading it finds a call to Claude that is bulk work nobody
waits on; it is predicted bulk when the scan reports a call in it with a bulk signal that stands
(not dismissed, not already batched). Prints precision, recall and every file it gets wrong.
Run: python benchmarks/bench_scan_quality.py [CORPUS]
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.cli.scan import scan_paths

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "scan_corpus"


def score(root: Path = CORPUS) -> dict:
    """{"precision", "recall", "wrong": [(path, label, what the scan said)], "files", "hygiene"}."""
    labels = {entry["path"]: entry["label"] for entry in json.loads((root / "manifest.json").read_text())["files"]}
    calls, _, hygiene = scan_paths([str(root)])
    said = {}
    for call in calls:
        path = Path(call.path).relative_to(root).as_posix()
        said.setdefault(path, []).append(call)
    counts = {"tp": 0, "fp": 0, "fn": 0}
    wrong = []
    for path, label in sorted(labels.items()):
        predicted = any(call.bulk for call in said.get(path, ()))
        if predicted and label == "bulk":
            counts["tp"] += 1
        elif predicted or label == "bulk":
            counts["fp" if predicted else "fn"] += 1
            why = [f"{c.line}: " + "; ".join([s.description for s in c.signals] + [d.reason for d in c.dismissed])
                   for c in said.get(path, ())]
            wrong.append((path, label, " | ".join(why) or "no call found"))
    found = counts["tp"] + counts["fp"]
    actual = counts["tp"] + counts["fn"]
    return {"precision": counts["tp"] / found if found else 1.0, "recall": counts["tp"] / actual if actual else 1.0,
            "wrong": wrong, "files": len(labels), "hygiene": hygiene}


if __name__ == "__main__":
    result = score(Path(sys.argv[1]) if len(sys.argv) > 1 else CORPUS)
    print(f"{result['files']} labelled files: precision {result['precision']:.2f}, recall {result['recall']:.2f}")
    for path, label, why in result["wrong"]:
        print(f"  wrong: {path} (labelled {label}): {why}")
    for finding in result["hygiene"]:
        print(f"  hygiene: {Path(finding.path).name}:{finding.line} {finding.rule}")
