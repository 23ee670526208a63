"""Run a file of Claude requests through the Message Batches API.

Each line of the file is one request: Messages API parameters, or {"custom_id": ..., "params":
{...}}. The store (--store, default batch-jobs) keeps each job's batches and results; running the
same job again resumes it and never pays twice. Exit status: 0 when every request succeeded, 1
when some did not (or the job cannot go on), 2 for bad input, 130 when interrupted.

Example:
  batch-review batch validate requests.jsonl
  batch-review batch run requests.jsonl --job nightly-enrichment
  batch-review batch results nightly-enrichment > results.jsonl
"""

import json
import logging
import sys
from datetime import datetime
from pathlib import Path

from bot.cli.main import subcommand
from bot.helper import DEFAULT_STORE, BatchError, Job, default_client, plan, plural, run_batch

# action -> (summary, description, example...) for --help
HELP = {
    "run": (
        "send the requests of a JSONL file and wait for every result",
        "Send every request of a JSONL file through the Message Batches API, wait, and save every result. "
        "The file is checked before credentials are looked up or anything is stored: a refused run leaves "
        "nothing behind. Running the same job again resumes it and never pays twice.",
        "batch-review batch run requests.jsonl --job nightly-2026-10-14",
        "batch-review batch run requests.jsonl --job nightly-2026-10-14 --dry-run",
    ),
    "validate": (
        "check a JSONL file offline and show the batches a run makes",
        "Check a JSONL file of requests as `run` does, offline (no key needed, nothing stored), and print "
        "how many requests it holds and the batches a run makes, with their sizes.",
        "batch-review batch validate requests.jsonl",
    ),
    "status": (
        "where a job stands",
        "Where a job stands: its requests by outcome, its token totals, each batch and its state, and "
        "warnings about results close to deletion. Without NAME, every job in the store.",
        "batch-review batch status nightly-2026-10-14",
    ),
    "results": (
        "print the saved results as JSONL",
        'Print a job\'s saved results as JSONL ({"custom_id", "result"}), in the order of its requests.',
        "batch-review batch results nightly-2026-10-14 > results.jsonl",
    ),
    "cancel": (
        "cancel the batches still processing",
        "Cancel the job's batches that are still processing. Run the job again afterwards to save what "
        "each batch finished before it stopped.",
        "batch-review batch cancel nightly-2026-10-14",
    ),
}


def add_arguments(parser):
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    run_, validate, status, results, cancel = (subcommand(actions, name, *texts) for name, texts in HELP.items())
    for action in (run_, status, results, cancel):
        action.add_argument(
            "--store", default=DEFAULT_STORE, metavar="DIR", help=f"where jobs are kept (default: {DEFAULT_STORE})"
        )
    for action in (run_, validate):
        action.add_argument("requests", metavar="REQUESTS.jsonl", help="one request per line; - reads standard input")
    run_.add_argument("--job", required=True, metavar="NAME", help="the job's name; the same name resumes it")
    run_.add_argument("--poll", type=float, default=30.0, metavar="SECONDS", help="first wait between status checks")
    run_.add_argument("--retries", type=int, default=2, metavar="N", help="resends of expired and failed requests")
    run_.add_argument("--dry-run", action="store_true", help="check the file and show the batches; send nothing")
    status.add_argument("job", nargs="?", metavar="NAME", help="a job (default: every job in the store)")
    for action in (results, cancel):
        action.add_argument("job", metavar="NAME", help="the job's name")


def run(args) -> int:
    helper_log, shown = logging.getLogger("bot.helper"), logging.StreamHandler()
    helper_log.addHandler(shown)
    helper_log.setLevel(logging.INFO)
    try:
        actions = {"run": _run, "validate": _validate, "status": _status, "results": _results, "cancel": _cancel}
        return actions[args.action](args)
    except BrokenPipeError:  # not an unusable file: main() ends a closed pipe quietly
        raise
    except OSError as error:
        print(f"batch-review batch: cannot use {error.filename}: {error.strerror}", file=sys.stderr)
        return 2
    except ValueError as error:
        print(f"batch-review batch: {error}", file=sys.stderr)
        return 2
    except BatchError as error:
        print(f"batch-review batch: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            "\nbatch-review batch: interrupted. Batches already created keep running; run the same command "
            "again to pick them up.",
            file=sys.stderr,
        )
        return 130
    finally:
        helper_log.removeHandler(shown)


def _run(args) -> int:
    if args.dry_run:
        return _validate(args, Job(args.job, args.store))
    import anthropic  # the SDK takes ~0.5 s to import: only commands that call the API load it

    try:
        with _source(args.requests) as source:
            result = run_batch(  # its default client: credentials are looked up once the file is checked
                _items(source),
                _params,
                custom_id=_custom_id,
                job=args.job,
                store=args.store,
                poll=args.poll,
                retries=args.retries,
            )
    except anthropic.AnthropicError as error:
        print(f"batch-review batch: the API call failed: {error}", file=sys.stderr)
        return 1
    with result:
        print(_summary(args.job, result), file=sys.stderr)
        print(f"results: {result.path} (print them with: batch-review batch results {args.job})", file=sys.stderr)
        return 0 if result.ok else 1


def _validate(args, job: Job | None = None) -> int:
    """Check the file offline, store nothing, and print what a run would send (and whether it resumes `job`)."""
    with _source(args.requests) as source:
        checked = plan(_items(source), _params, custom_id=_custom_id)
    print(f"{args.requests}: {plural(checked.requests, 'request')}, all valid")
    if job and job.manifest:
        job.check_same(checked.fingerprint, checked.requests)
        print(f"job {job.name} in {job.path.parent} holds these requests: a run resumes it")
    else:
        sizes = ", ".join(f"{plural(count, 'request')} ({_size(size)})" for count, size in checked.batches)
        print(f"a run makes {plural(len(checked.batches), 'batch', 'batches')}: {sizes}")
    if job:
        print("dry run: nothing was sent or stored")
    return 0


def _size(count: int) -> str:
    return f"{count:,} bytes" if count < 1_000_000 else f"{count / 1e6:,.1f} MB"


def _source(path: str):
    return sys.stdin if path == "-" else open(path, encoding="utf-8")


def _items(lines):
    """One request per line; a line that is not a JSON object stops the run before anything is sent."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            raise ValueError(f"line {number} is empty")
        try:
            request = json.loads(line)
        except ValueError as error:
            raise ValueError(f"line {number} is not JSON ({error})") from None
        if not isinstance(request, dict):
            raise ValueError(f"line {number} is not a JSON object")
        if "params" in request and not set(request) <= {"custom_id", "params"}:
            raise ValueError(f"line {number}: a line with params holds only custom_id and params")
        if "custom_id" in request and "params" not in request:
            raise ValueError(f"line {number}: a line with a custom_id holds the request under params")
        yield request


def _params(request: dict) -> dict:
    return request.get("params", request)


def _custom_id(request: dict):
    return request.get("custom_id")


def _job(name: str, store: str) -> Job:
    job = Job(name, store)
    if not job.manifest:
        raise ValueError(f"no job {name!r} in {store}")
    return job


def _summary(name: str, result) -> str:
    counts = ", ".join(f"{count:,} {outcome}" for outcome, count in sorted(result.counts.items()))
    usage = result.usage
    lines = [
        f"job {name}: {plural(len(result), 'request')}: {counts}",
        f"tokens: {usage['input_tokens']:,} input, {usage['output_tokens']:,} output, "
        f"{usage['cache_creation_input_tokens']:,} cache writes, {usage['cache_read_input_tokens']:,} cache reads",
    ]
    for custom_id, error in list(result.errors.items())[:5]:
        lines.append(f"  errored {custom_id}: {error.type}: {error.message}")
    return "\n".join(lines)


def _status(args) -> int:
    names = [args.job] if args.job else sorted(p.parent.name for p in Path(args.store).glob("*/manifest.json"))
    if not names:
        print(f"no jobs in {args.store}", file=sys.stderr)
        return 0
    every_ok = True
    for name in names:
        try:
            every_ok &= _show(_job(name, args.store))
        except BatchError as error:  # a damaged job: say so, and go on with the others
            print(f"batch-review batch: {error}", file=sys.stderr)
            every_ok = False
    return 0 if every_ok else 1


def _show(job: Job) -> bool:
    """Print where a job stands; whether every request succeeded."""
    with job, job.result() as result:
        print(_summary(job.name, result))
        for batch in job.batches:
            if batch["id"] is None:
                print(
                    f"  batch {batch['number']}: sent without an answer; the next run adopts a listed batch only when "
                    "its results carry this batch's tag, else sends it again"
                )
                for candidate, why in batch.get("candidates", {}).items():
                    print(f"    candidate {candidate}: {why}")
                continue
            state = batch.get("processing_status", "unknown")
            saved = batch.get("results_saved_at")
            when = f"results saved {_local(saved)}" if saved else f"checked {_local(batch.get('checked_at'))}"
            print(f"  {batch['id']}: {plural(batch['requests'], 'request')}, {state}, {when}")
        for warning in job.warnings():
            print(f"  warning: {warning}")
        return result.ok


def _local(moment: str | None) -> str:
    return datetime.fromisoformat(moment).astimezone().strftime("%Y-%m-%d %H:%M") if moment else "never"


def _results(args) -> int:
    job = _job(args.job, args.store)
    with job.result() as result:
        for line in result.lines():
            print(json.dumps(line, ensure_ascii=False))
        if result.missing:
            print(
                f"batch-review batch: {plural(len(result.missing), 'request')} without a result yet; run the job again "
                "to collect them",
                file=sys.stderr,
            )
        return 0 if result.ok else 1


def _cancel(args) -> int:
    import anthropic  # the SDK takes ~0.5 s to import: only commands that call the API load it

    job = _job(args.job, args.store)
    try:
        canceled = job.cancel(default_client())
    except anthropic.AnthropicError as error:
        print(f"batch-review batch: the API call failed: {error}", file=sys.stderr)
        return 1
    finally:
        job.close()
    for batch_id in canceled:
        print(f"canceling {batch_id}")
    print(
        "nothing to cancel" if not canceled else "run the job again to save what each batch finished before it stopped",
        file=sys.stderr,
    )
    return 0
