import statistics
import time

import anthropic

client = anthropic.Anthropic()


def probe(samples):
    latencies = []
    for prompt in samples:
        started = time.perf_counter()
        client.messages.create(model="claude-haiku-4-5", max_tokens=1, messages=[{"role": "user", "content": prompt}])
        latencies.append(time.perf_counter() - started)
    print("p50", statistics.median(latencies), "p95", statistics.quantiles(latencies, n=20)[-1])
