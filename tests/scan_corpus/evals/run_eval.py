"""Score the support model against the golden set and write a report."""
import csv
import json

import anthropic

client = anthropic.Anthropic()
GRADER = "claude-opus-4-1"


def judge(question, expected, actual):
    verdict = client.messages.create(
        model=GRADER, max_tokens=5,
        messages=[{"role": "user", "content": f"Q: {question}\nExpected: {expected}\nGot: {actual}\nPASS or FAIL?"}])
    return verdict.content[0].text.strip() == "PASS"


def main():
    cases = json.load(open("golden.json"))
    rows = []
    for case in cases:
        answer = client.messages.create(model="claude-haiku-4-5", max_tokens=800,
                                        messages=[{"role": "user", "content": case["question"]}])
        text = answer.content[0].text
        rows.append([case["id"], judge(case["question"], case["expected"], text)])
    with open("report.csv", "w") as f:
        csv.writer(f).writerows(rows)
