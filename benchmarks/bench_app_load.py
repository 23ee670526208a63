"""Load on the App's webhook: signed deliveries at a rising rate, acknowledgement latency, every delivery reviewed once.

The App runs under gunicorn (gthread, SQLite) against a fake GitHub on 127.0.0.1, in three set-ups:
embedded (worker threads inside the web process), split (a worker process beside it), and the
web process alone with no review running; then the same load hits a bare Flask endpoint that
only answers 200, as the ceiling. On a 2-core machine the reviews, and the fake GitHub answering
them, compete with the acknowledgements for the same cores. Each delivery is a new PR, so each accepted delivery must end
as exactly one review (one history row, one comment, one check run). Loopback only, bounded in
count and time.

Then throughput: as many deliveries as the servers answer, from several client processes at once,
for the webhook path (the web process; its workers run in another process) and the bare Flask
endpoint in the same run; the ratio of the two is the figure.

Run: python benchmarks/bench_app_load.py [--rates 50,100,200,300] [--seconds 3] [--throughput-seconds 5]
"""

import argparse
import http.client
import json
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app.events import signature
from tests.app_support import APP_ID, INSTALLATION, REPO, SECRET, pr_event, private_key, public_key  # noqa: E402
from tests.checklists import CANDIDATE  # noqa: E402
from tests.fake_github import NO_WAITS, FakeGitHub  # noqa: E402

DRAIN_SECONDS = 600
WARM_UP = 20  # deliveries sent first and not measured: imports, the App's identity, the first token


def app_under_test():
    """gunicorn's factory: the App as in production, without PyGithub's waits (the fake needs no sparing)."""
    from bot.app.server import create_app

    return create_app({"GITHUB_PACING": NO_WAITS})


def bare_app():
    """The ceiling: Flask answering 200 to the same requests and doing nothing else."""
    from flask import Flask

    app = Flask(__name__)
    app.add_url_rule("/webhook", "webhook", lambda: ("", 200), methods=["POST"])
    return app


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def gunicorn(factory: str, env: dict, threads: int = 16):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "1", "--worker-class", "gthread", "--threads", str(threads),
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--chdir", str(ROOT),
         f"benchmarks.bench_app_load:{factory}"],
        env={**os.environ, **env, "PYTHONPATH": str(ROOT)}, cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("gunicorn did not start")


def post(port: int, body: bytes, headers: dict) -> tuple:
    """One delivery on a new connection, as GitHub sends them: (status, seconds)."""
    start = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", "/webhook", body=body, headers=headers)
        status = connection.getresponse().status
    except OSError:
        status = 0
    finally:
        connection.close()
    return status, time.perf_counter() - start


def deliveries(first: int, count: int) -> list:
    """Signed deliveries, one PR each (numbers first..first+count-1)."""
    made = []
    for number in range(first, first + count):
        body = json.dumps(pr_event("opened", repo=REPO, number=number, installation=INSTALLATION)).encode()
        made.append((number, body, {"Content-Type": "application/json", "X-GitHub-Event": "pull_request",
                                    "X-GitHub-Delivery": str(uuid.uuid4()),
                                    "X-Hub-Signature-256": signature(SECRET, body)}))
    return made


def load(port: int, batch: list, rate: float) -> dict:
    """Send `batch` open-loop at `rate` a second; latencies of the answers."""
    results, lock = [], threading.Lock()
    start = time.perf_counter()

    def send(index_and_delivery):
        index, (number, body, headers) = index_and_delivery
        delay = start + index / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        status, seconds = post(port, body, headers)
        with lock:
            results.append((number, status, seconds))

    with ThreadPoolExecutor(64) as pool:
        list(pool.map(send, enumerate(batch)))
    elapsed = time.perf_counter() - start
    latencies = sorted(seconds for _, _, seconds in results)
    return {"sent": len(results), "accepted": [number for number, status, _ in results if status in (200, 202)],
            "p50": statistics.median(latencies) * 1000, "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
            "max": latencies[-1] * 1000, "per_second": len(results) / elapsed}


def saturate(port: int, seconds: float, seed: int) -> int:
    """One client process: 8 threads posting deliveries back to back for `seconds`; how many were answered 2xx.

    A few hundred signed bodies are reused, each with a new delivery id (the signature covers the body only)."""
    signed = [(body, headers["X-Hub-Signature-256"]) for _, body, headers in deliveries(seed, 200)]
    end, answered, lock = time.perf_counter() + seconds, [0], threading.Lock()

    def client(offset):
        count = 0
        while time.perf_counter() < end:
            body, mac = signed[(offset + count) % len(signed)]
            status, _ = post(port, body, {"Content-Type": "application/json", "X-GitHub-Event": "pull_request",
                                          "X-GitHub-Delivery": str(uuid.uuid4()), "X-Hub-Signature-256": mac})
            count += 1
            if 200 <= status < 300:
                with lock:
                    answered[0] += 1

    threads = [threading.Thread(target=client, args=(index * 25,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answered[0]


def throughput(port: int, seconds: float, clients: int = 2) -> float:
    """Deliveries answered a second by the server at `port`, closed loop from `clients` processes."""
    with multiprocessing.get_context("spawn").Pool(clients) as pool:
        return sum(pool.starmap(saturate, [(port, seconds, 10_000_000 * (index + 1)) for index in range(clients)])) / seconds


def run_steps(name: str, port: int, rates: list, seconds: float, first_number: int) -> list:
    warm_up = load(port, deliveries(first_number, WARM_UP), 20.0)
    first_number += WARM_UP
    print(f"\n{name}")
    print(f"{'target/s':>9} {'sent':>6} {'accepted':>9} {'ack p50 ms':>11} {'ack p99 ms':>11} {'max ms':>8} {'achieved/s':>11}")
    accepted, number = warm_up["accepted"], first_number
    for rate in rates:
        batch = deliveries(number, int(rate * seconds))
        number += len(batch)
        step = load(port, batch, rate)
        accepted += step["accepted"]
        print(f"{rate:>9} {step['sent']:>6} {len(step['accepted']):>9} {step['p50']:>11.1f} {step['p99']:>11.1f} "
              f"{step['max']:>8.1f} {step['per_second']:>11.1f}", flush=True)
    return accepted


def measure_app(github, name: str, env: dict, rates: list, seconds: float, first_number: int, workers: int) -> None:
    """Load one App set-up, wait for its queue to empty, and check each accepted delivery became one review."""
    from bot.app.store import PENDING, Store

    web, port = gunicorn("app_under_test()", {**env, "BATCH_REVIEW_WORKERS": "0" if workers else env["BATCH_REVIEW_WORKERS"]})
    worker = None
    if workers:  # the split set-up: workers in a process of their own
        worker = subprocess.Popen([sys.executable, "-m", "tests.app_process", "work"], cwd=ROOT, stdout=subprocess.DEVNULL,
                                  env={**os.environ, **env, "BATCH_REVIEW_WORKERS": str(workers), "PYTHONPATH": str(ROOT)})
    try:
        accepted = run_steps(name, port, rates, seconds, first_number)
        store = Store(env["DATABASE_URL"])
        started, deadline = time.monotonic(), time.monotonic() + DRAIN_SECONDS
        while store.counts()[PENDING] and time.monotonic() < deadline:
            time.sleep(0.5)
        drained = time.monotonic() - started
        reviews = Counter(row["number"] for row in store.history())
        left = store.counts()
        store.close()
    finally:
        for process in (web, worker):
            if process:
                process.send_signal(signal.SIGTERM)
                process.wait(30)
    once = sum(1 for number in accepted if reviews[number] == 1)
    twice = sum(1 for number in accepted if reviews[number] > 1)
    lost = sum(1 for number in accepted if reviews[number] == 0)
    odd = sum(1 for number in accepted if len(github.comments(REPO, number)) != 1)
    print(f"reviews: {len(accepted)} accepted deliveries, {once} reviewed exactly once, {twice} more than once, "
          f"{lost} lost; {odd} PR(s) without exactly one comment; the queue was empty {drained:.1f} s after the "
          f"load ended ({left['failed']} failed)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="50,100,200,300", help="deliveries a second, one step each")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each step")
    parser.add_argument("--workers", type=int, default=2, help="worker threads")
    parser.add_argument("--throughput-seconds", type=float, default=5.0, help="length of each throughput run")
    args = parser.parse_args()
    rates = [float(rate) for rate in args.rates.split(",")]
    total = WARM_UP + int(sum(rate * args.seconds for rate in rates))
    print(f"bench_app_load: {total} deliveries per server at {args.rates}/s, {args.seconds:g} s a step; "
          f"{os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f}; payload {len(json.dumps(pr_event())):,} bytes")

    with FakeGitHub() as github, tempfile.TemporaryDirectory() as workdir:
        github.add_app(APP_ID, public_key())
        github.add_repo(REPO)
        for number in range(1, 2 * total + 1):
            github.add_pull(REPO, number, body=CANDIDATE)
        env = {"GITHUB_APP_ID": str(APP_ID), "GITHUB_APP_PRIVATE_KEY": private_key(), "GITHUB_WEBHOOK_SECRET": SECRET,
               "GITHUB_API_URL": github.base_url, "BATCH_REVIEW_WORKERS": str(args.workers),
               "GITHUB_WRITE_BUDGETS": "1000000/60"}  # the fake GitHub sets no secondary limit to spare
        measure_app(github, f"embedded: the App under gunicorn (gthread, 1 process), SQLite, {args.workers} worker "
                            "threads inside it", {**env, "DATABASE_URL": f"sqlite:///{workdir}/embedded.sqlite3"},
                    rates, args.seconds, 1, workers=0)
        measure_app(github, f"split: the same web process without workers + a worker process ({args.workers} threads), "
                            "one SQLite file", {**env, "DATABASE_URL": f"sqlite:///{workdir}/split.sqlite3"},
                    rates, args.seconds, total + 1, workers=args.workers)

        web, port = gunicorn("app_under_test()", {**env, "BATCH_REVIEW_WORKERS": "0",
                                                   "DATABASE_URL": f"sqlite:///{workdir}/web-only.sqlite3"})
        try:
            run_steps("the webhook path alone: the same web process, no review running (the queue just fills)",
                      port, rates, args.seconds, 1)
            webhook_rate = throughput(port, args.throughput_seconds)
        finally:
            web.send_signal(signal.SIGTERM)
            web.wait(30)

        bare, port = gunicorn("bare_app()", {})
        try:
            run_steps("ceiling: bare Flask returning 200 (same gunicorn settings)", port, rates, args.seconds, 1)
            bare_rate = throughput(port, args.throughput_seconds)
        finally:
            bare.send_signal(signal.SIGTERM)
            bare.wait(30)
        print(f"\nthroughput ({args.throughput_seconds:g} s each, 2 client processes x 8 threads, a new connection "
              f"per delivery): webhook path {webhook_rate:,.0f}/s, bare Flask {bare_rate:,.0f}/s, "
              f"ratio {webhook_rate / bare_rate:.2f}")
        if github.problems:
            print(f"fake GitHub saw {len(github.problems)} contract problem(s), e.g. {github.problems[0]}")


if __name__ == "__main__":
    main()
