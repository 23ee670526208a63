"""run_batch(): Claude requests through the Message Batches API, every result kept."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import re
import sqlite3
import sys
import time
from collections.abc import Callable, ItemsView, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, NamedTuple

try:
    import fcntl
except ImportError:  # Windows: two runs of one job are not kept apart
    fcntl = None

# How to use it, and how to copy this one file into your own codebase: handbook/helper.md in batch-review.

log = logging.getLogger(__name__)

DEFAULT_STORE = "batch-jobs"
MAX_REQUESTS = 100_000  # per batch, the API's limit
MAX_BYTES = 240_000_000  # per batch: the API allows 256 MB, this keeps a margin
RESULTS_KEPT = timedelta(days=29)  # results can be downloaded this long after a batch is created
WARN_BEFORE = timedelta(days=3)
OVERDUE = timedelta(hours=1)  # a batch still running this long after it expired is stuck
CREATE_SLACK = timedelta(minutes=10)  # clock difference allowed when looking for a batch a lost answer made
ATTEMPTS = 8  # tries of one API step (a create, a status check, a results download)
CUSTOM_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")
JOB_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
USAGE = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
RETRYABLE = "outcome = 'expired' OR (outcome = 'errored' AND error_type IS NOT 'invalid_request_error')"

SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    seq INTEGER PRIMARY KEY,           -- the item's place in the input
    custom_id TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL,             -- bytes it adds to a batch's body
    batch INTEGER,                     -- number of the batch it was last sent in
    answered INTEGER,                  -- number of the batch whose result is stored
    tries INTEGER NOT NULL DEFAULT 0,  -- results received
    outcome TEXT,                      -- succeeded, errored, canceled or expired
    error_type TEXT,
    error_message TEXT,
    text TEXT,
    message TEXT,                      -- JSON
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cache_creation_input_tokens INTEGER NOT NULL DEFAULT 0,
    cache_read_input_tokens INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS requests_by_batch ON requests (batch);
-- apart, so that saving a result does not rewrite the request's parameters
CREATE TABLE IF NOT EXISTS params (seq INTEGER PRIMARY KEY, json TEXT NOT NULL);
"""


class BatchError(Exception):
    """A job cannot go on; the message says why and what to do."""


class ItemError(NamedTuple):
    type: str
    message: str


@dataclass(frozen=True)
class Progress:
    """Where a job stands, given to the progress callback after each status check."""

    job: str
    requests: int
    answered: int  # with a result stored (a retry may still follow)
    succeeded: int
    batches: int
    open_batches: int


def run_batch(
    items: Iterable[Any],
    build_params: Callable[[Any], Mapping],
    *,
    job: str,
    client: Any = None,
    store: str | os.PathLike = DEFAULT_STORE,
    poll: float = 30.0,
    custom_id: Callable[[Any], str | None] | None = None,
    retries: int = 2,
    progress: Callable[[Progress], None] | None = None,
) -> BatchResult:
    """Send one request per item through the Message Batches API, wait, and return the stored results.

    build_params(item) returns Messages API parameters. custom_id(item) names each request; without
    it (or when it returns None) the name is derived from the parameters. Results go to
    STORE/JOB/ as they arrive; running the same job again resumes it instead of paying twice.
    poll is the first wait between status checks in seconds (it grows to ten times that);
    errors other than invalid_request_error and expired requests are sent again up to `retries`
    times. Without a progress callback, a progress bar is drawn when stderr is a terminal.
    """
    if poll <= 0 or retries < 0:
        raise ValueError(f"poll must be above 0 seconds and retries 0 or more (got poll={poll}, retries={retries})")
    this = Job(job, store)
    with this.locked():
        this.load(_requests(items, build_params, custom_id))
        if client is None:
            import anthropic

            client = anthropic.Anthropic()
        _Run(this, client, poll, retries, progress or _terminal_progress()).until_done()
        this.record_usage()
    return this.result()


def _requests(items, build_params, custom_id) -> Iterator[tuple[str, str]]:
    """(custom_id, params JSON) for each item, checked as the API would check them, before anything is sent."""
    used: dict[str, int] = {}
    for number, item in enumerate(items, 1):
        params = build_params(item)
        where = f"item {number}"
        if not isinstance(params, Mapping):
            raise ValueError(f"{where}: build_params returned {type(params).__name__}, not Messages API parameters")
        for key in ("stream", "speed"):
            if key in params:
                raise ValueError(f"{where}: '{key}' is not allowed inside a batch; remove it from the parameters")
        max_tokens = params.get("max_tokens")
        if type(max_tokens) is not int or max_tokens < 1:
            raise ValueError(f"{where}: max_tokens must be a whole number of at least 1 (got {max_tokens!r})")
        try:
            body = json.dumps(params, ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{where}: the parameters are not JSON ({error})") from None
        name = custom_id(item) if custom_id else None
        if name is None:
            digest = hashlib.sha256(body.encode()).hexdigest()[:32]
            used[digest] = used.get(digest, 0) + 1  # identical requests: digest, digest-2, digest-3...
            name = digest if used[digest] == 1 else f"{digest}-{used[digest]}"
        elif not isinstance(name, str) or not CUSTOM_ID.fullmatch(name):
            raise ValueError(f"{where}: custom_id {name!r} must be 1 to 64 letters, digits, '_' or '-'")
        elif name in used:
            raise ValueError(f"{where}: custom_id {name!r} is already used by item {used[name]}")
        else:
            used[name] = number
        yield name, body


class _Fingerprint:
    """A digest of (custom_id, params) pairs that does not depend on their order."""

    def __init__(self):
        self.count = self._sum = 0

    def add(self, custom_id: str, params: str) -> None:
        digest = hashlib.sha256(f"{custom_id}\n{params}".encode()).digest()
        self._sum = (self._sum + int.from_bytes(digest, "big")) % 2**256
        self.count += 1

    def hexdigest(self) -> str:
        return f"{self._sum:064x}"


class Job:
    """One named job in a store: manifest.json (its batches) and requests.sqlite (its requests and results)."""

    def __init__(self, name: str, store: str | os.PathLike = DEFAULT_STORE):
        if not isinstance(name, str) or not JOB_NAME.fullmatch(name):
            raise ValueError(
                f"job name {name!r}: use up to 100 letters, digits, '.', '_' or '-', starting with a letter or digit"
            )
        self.name = name
        self.path = Path(store) / name
        self._manifest_path = self.path / "manifest.json"
        self._db_path = self.path / "requests.sqlite"
        self.manifest = json.loads(self._manifest_path.read_text()) if self._manifest_path.exists() else None
        self._db: sqlite3.Connection | None = None

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = sqlite3.connect(self._db_path, timeout=60)  # another process may be saving results
            self._db.executescript(SCHEMA)
        return self._db

    @property
    def batches(self) -> list[dict]:
        return self.manifest["batches"] if self.manifest else []

    @contextmanager
    def locked(self):
        """Hold the job's lock, so two runs of one job never create batches side by side."""
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / "lock", "w") as lock:
            try:
                if fcntl:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise BatchError(f"job {self.name!r} is being run by another process") from None
            try:
                yield
            finally:
                self.close()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def __enter__(self) -> Job:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def load(self, requests: Iterable[tuple[str, str]]) -> None:
        """Store the requests on the job's first run; on later runs check that they are the same."""
        fingerprint = _Fingerprint()
        if self.manifest:
            for custom_id, params in requests:
                fingerprint.add(custom_id, params)
            if fingerprint.hexdigest() != self.manifest["fingerprint"]:
                raise ValueError(
                    f"job {self.name!r} was started with different requests ({self.manifest['requests']:,} then, "
                    f"{fingerprint.count:,} now); its results are kept in {self.path}. "
                    "Use a new job name, or delete that folder to start over."
                )
            if self.db.execute("SELECT count(*) FROM requests").fetchone()[0] != fingerprint.count:
                raise BatchError(f"{self._db_path} does not hold this job's requests; restore it from a backup")
            self._forget_unrecorded_batches()
            return
        with self.db:
            self.db.execute("DELETE FROM requests")  # left by a first run that stopped before its manifest
            self.db.execute("DELETE FROM params")
            for seq, (custom_id, params) in enumerate(requests):
                fingerprint.add(custom_id, params)
                size = len(custom_id) + len(params.encode()) + 28  # {"custom_id":"…","params":…},
                if size > MAX_BYTES:
                    raise ValueError(f"request {custom_id}: {size:,} bytes is more than a batch can hold")
                self.db.execute("INSERT INTO requests (seq, custom_id, size) VALUES (?, ?, ?)", (seq, custom_id, size))
                self.db.execute("INSERT INTO params (seq, json) VALUES (?, ?)", (seq, params))
        if not fingerprint.count:
            raise ValueError("no items: there is nothing to send")
        self.manifest = {
            "schema_version": 1,
            "job": self.name,
            "fingerprint": fingerprint.hexdigest(),
            "requests": fingerprint.count,
            "created_at": _now().isoformat(),
            "batches": [],
        }
        self.save()

    def save(self) -> None:
        """Write the manifest atomically: a crash leaves the old one or the new one, never half of one."""
        temporary = self._manifest_path.with_suffix(".tmp")
        with open(temporary, "w") as file:
            json.dump(self.manifest, file, indent=2)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, self._manifest_path)

    def _forget_unrecorded_batches(self) -> None:
        """Requests marked for a batch whose manifest entry was never written go back to where they were."""
        numbers = [entry["number"] for entry in self.batches]
        with self.db:
            self.db.execute(
                f"UPDATE requests SET batch = answered WHERE batch NOT IN ({','.join('?' * len(numbers))})", numbers
            )

    def next_batch(self, retries: int, max_bytes: int) -> dict | None:
        """Mark the next requests to send (new ones, then retries) as one batch and record it, not yet created."""
        chosen, size = [], 15  # {"requests":[]}
        rows = self.db.execute(
            f"SELECT seq, size FROM requests WHERE batch IS NULL"
            f" OR (answered = batch AND tries <= ? AND ({RETRYABLE})) ORDER BY seq",
            (retries,),
        )
        for seq, request_size in rows:
            if len(chosen) == MAX_REQUESTS or size + request_size > max_bytes:
                break
            chosen.append(seq)
            size += request_size
        rows.close()
        if not chosen:
            return None
        number = max((entry["number"] for entry in self.batches), default=0) + 1
        with self.db:
            self.db.executemany("UPDATE requests SET batch = ? WHERE seq = ?", ((number, seq) for seq in chosen))
        entry = {"number": number, "id": None, "requests": len(chosen), "bytes": size, "sent_at": _now().isoformat()}
        self.batches.append(entry)
        self.save()
        return entry

    def batch_requests(self, entry: dict) -> list[dict]:
        rows = self.db.execute(
            "SELECT custom_id, json FROM requests JOIN params USING (seq) WHERE batch = ? ORDER BY seq",
            (entry["number"],),
        )
        return [{"custom_id": custom_id, "params": json.loads(params)} for custom_id, params in rows]

    def confirm(self, entry: dict, batch: Any) -> None:
        """Record a created batch at once: from here on, a crash resumes it instead of creating another."""
        entry.update(id=batch.id, created_at=batch.created_at.isoformat(), expires_at=batch.expires_at.isoformat())
        self.note_status(entry, batch)
        self.save()
        log.info("job %s: batch %s created with %d requests", self.name, batch.id, entry["requests"])

    def note_status(self, entry: dict, batch: Any) -> None:
        entry.update(
            processing_status=batch.processing_status,
            request_counts=batch.request_counts.to_dict(),
            checked_at=_now().isoformat(),
        )

    def drop(self, entry: dict) -> None:
        """Forget a batch the API proved it did not create; its requests wait to be sent again."""
        with self.db:
            self.db.execute("UPDATE requests SET batch = answered WHERE batch = ?", (entry["number"],))
        self.batches.remove(entry)
        self.save()

    def unsaved(self) -> list[dict]:
        """Created batches with requests whose results are not stored yet."""
        return [
            entry
            for entry in self.batches
            if entry["id"]
            and self.db.execute(
                "SELECT 1 FROM requests WHERE batch = ? AND answered IS NOT batch LIMIT 1", (entry["number"],)
            ).fetchone()
        ]

    def save_results(self, entry: dict, lines: Iterable[dict]) -> None:
        """Store one batch's results in one transaction, checking each request comes back exactly once."""
        seen = set()
        with self.db:  # a broken stream or a bad result rolls everything back
            for line in lines:
                custom_id = line["custom_id"]
                if custom_id in seen:
                    raise BatchError(f"batch {entry['id']} returned {custom_id!r} twice; its results were not saved")
                seen.add(custom_id)
                stored = self.db.execute(
                    "UPDATE requests SET answered = batch, tries = tries + 1, outcome = :outcome,"
                    " error_type = :error_type, error_message = :error_message, text = :text, message = :message,"
                    + ", ".join(f" {key} = :{key}" for key in USAGE)
                    + " WHERE custom_id = :custom_id AND batch = :batch",
                    {**_result_row(line["result"]), "custom_id": custom_id, "batch": entry["number"]},
                )
                if not stored.rowcount:
                    raise BatchError(f"batch {entry['id']} returned {custom_id!r}, which it was not sent")
            missing = [
                row[0]
                for row in self.db.execute(
                    "SELECT custom_id FROM requests WHERE batch = ? AND answered IS NOT batch LIMIT 5",
                    (entry["number"],),
                )
            ]
            if missing:
                raise BatchError(f"batch {entry['id']} returned no result for {', '.join(missing)}")
        entry["results_saved_at"] = _now().isoformat()
        self.save()

    def results_gone_at(self, entry: dict) -> datetime:
        return datetime.fromisoformat(entry["created_at"]) + RESULTS_KEPT

    def warnings(self) -> list[str]:
        """Batches whose results were never saved, close to or past the day the API deletes them."""
        found = []
        for entry in self.unsaved():
            gone_at = self.results_gone_at(entry)
            if _now() >= gone_at:
                found.append(
                    f"results of batch {entry['id']} ({entry['requests']:,} requests) were deleted by the API on "
                    f"{gone_at:%Y-%m-%d %H:%M} UTC, 29 days after it was created, before they were saved: they are lost"
                )
            elif _now() >= gone_at - WARN_BEFORE:
                found.append(
                    f"results of batch {entry['id']} ({entry['requests']:,} requests) will be deleted on "
                    f"{gone_at:%Y-%m-%d %H:%M} UTC and were never saved: run job {self.name!r} again now to save them"
                )
        return found

    def result(self) -> BatchResult:
        return BatchResult(self.name, self.path)

    def record_usage(self) -> None:
        """Copy the token totals into the manifest, where the adoption metric reads them."""
        with self.result() as result:
            self.manifest["usage"] = result.usage
        self.save()

    def cancel(self, client: Any) -> list[str]:
        """Ask the API to cancel every batch still processing; run the job again afterwards to save what ended."""
        canceled = []
        for entry in self.unsaved():
            if client.messages.batches.retrieve(entry["id"]).processing_status == "in_progress":
                canceled.append(client.messages.batches.cancel(entry["id"]).id)
        return canceled


def _result_row(result: dict) -> dict:
    row = {"outcome": result["type"], "error_type": None, "error_message": None, "text": None, "message": None}
    row.update(dict.fromkeys(USAGE, 0))
    if result["type"] == "succeeded":
        message = result["message"]
        row["text"] = "".join(block.get("text", "") for block in message["content"] if block.get("type") == "text")
        row["message"] = json.dumps(message, ensure_ascii=False)
        row.update({key: (message.get("usage") or {}).get(key) or 0 for key in USAGE})
    elif result["type"] == "errored":
        error = result["error"].get("error") or {}  # an error response: {"type": "error", "error": {...}}
        row.update(error_type=error.get("type"), error_message=error.get("message"))
    return row


class _BrokenStream(Exception):
    pass


def _lines(response) -> Iterator[dict]:
    """The JSON lines of a results download; any failure while reading them means the stream broke."""
    lines = response.iter_lines()
    while True:
        try:
            line = next(lines)
            if line.strip():
                yield json.loads(line)
        except StopIteration:
            return
        except Exception as error:  # transport errors of the SDK's HTTP library, or a cut-off line
            raise _BrokenStream(error) from error


class _Run:
    """One run of a job against the API: create what needs sending, wait, save results, send retries."""

    def __init__(self, job: Job, client: Any, poll: float, retries: int, progress):
        self.job, self.client, self.poll, self.retries, self.progress = job, client, poll, retries, progress
        self.max_bytes = MAX_BYTES

    def until_done(self) -> None:
        for warning in self.job.warnings():
            log.warning("job %s: %s", self.job.name, warning)
        for entry in [entry for entry in self.job.batches if entry["id"] is None]:
            self.settle(entry)
        interval = self.poll
        while True:
            while entry := self.job.next_batch(self.retries, self.max_bytes):
                self.create(entry)
            open_batches = self.open_batches()
            if not open_batches:
                return
            ended = self.check(open_batches)
            self.report()
            if not ended:
                time.sleep(interval * random.uniform(0.8, 1.2))
                interval = min(interval * 1.5, self.poll * 10)

    def settle(self, entry: dict) -> None:
        """A batch whose create was sent but never answered (the last run stopped): adopt it, or create it."""
        found = self.find_created(entry)
        if found:
            self.job.confirm(entry, found)
        else:
            self.create(entry)

    def create(self, entry: dict) -> None:
        """Create a batch without the SDK's automatic retries, which could create it twice."""
        import anthropic

        creator = self.client.with_options(max_retries=0)
        for attempt in range(ATTEMPTS):
            try:
                return self.job.confirm(entry, creator.messages.batches.create(requests=self.job.batch_requests(entry)))
            except anthropic.APIStatusError as error:
                if error.status_code == 413 and entry["requests"] > 1:
                    log.warning("job %s: the API found %d bytes too large; splitting", self.job.name, entry["bytes"])
                    self.max_bytes = entry["bytes"] // 2
                    return self.job.drop(entry)
                if not _transient(error):
                    self.job.drop(entry)
                    raise BatchError(
                        f"the API refused batch {entry['number']} of job {self.job.name!r} "
                        f"({error.status_code}): {error.api_message or error.message}"
                    ) from None
                if error.status_code != 504:  # nothing was created: wait as told, then try again
                    self.pause(attempt, error)
                    continue
            except anthropic.APIConnectionError:  # also timeouts: the batch may exist
                pass
            log.warning(
                "job %s: no answer to creating batch %d; checking whether it exists", self.job.name, entry["number"]
            )
            self.pause(attempt)
            found = self.find_created(entry)
            if found:
                return self.job.confirm(entry, found)
        raise BatchError(f"could not create batch {entry['number']} of job {self.job.name!r}; run the job again later")

    def find_created(self, entry: dict) -> Any:
        """The batch that a create whose answer was lost may have made: as many requests, made since it was sent."""
        import anthropic

        since = datetime.fromisoformat(entry["sent_at"]) - CREATE_SLACK
        known = {other["id"] for other in self.job.batches}
        matches = []
        try:
            for batch in self.client.messages.batches.list(limit=100):  # newest first
                if batch.created_at < since:
                    break
                if batch.id not in known and not batch.cancel_initiated_at and _total(batch) == entry["requests"]:
                    matches.append(batch)
        except anthropic.APIError as error:
            raise BatchError(
                f"could not check whether batch {entry['number']} of job {self.job.name!r} was created "
                f"({error.message}); run the job again: it looks for that batch before creating another"
            ) from error
        if len(matches) > 1:
            raise BatchError(
                f"creating batch {entry['number']} of job {self.job.name!r} got no answer, and {len(matches)} batches "
                f"could be it: {', '.join(batch.id for batch in matches)}. Cancel all but one of them "
                "(canceled batches are never picked), then run the job again."
            )
        return matches[0] if matches else None

    def open_batches(self) -> list[dict]:
        return [entry for entry in self.job.unsaved() if _now() < self.job.results_gone_at(entry)]

    def check(self, open_batches: list[dict]) -> bool:
        """Ask for the status of each open batch and save the results of those that ended; say if any did."""
        ended = False
        for entry in open_batches:
            batch = self.patiently(self.client.messages.batches.retrieve, entry["id"])
            self.job.note_status(entry, batch)
            if batch.processing_status == "ended":
                self.collect(entry)
                ended = True
            elif _now() > batch.expires_at + OVERDUE:
                raise BatchError(
                    f"batch {batch.id} is still {batch.processing_status} although it expired at "
                    f"{batch.expires_at:%Y-%m-%d %H:%M} UTC; run job {self.job.name!r} again later to collect it"
                )
        self.job.save()
        return ended

    def collect(self, entry: dict) -> None:
        """Stream a batch's results into the store, reading them again if the stream breaks."""
        import anthropic

        for attempt in range(ATTEMPTS):
            try:
                with self.client.messages.batches.with_streaming_response.results(entry["id"]) as response:
                    return self.job.save_results(entry, _lines(response))
            except (_BrokenStream, anthropic.APIConnectionError) as error:
                log.warning("job %s: results of %s broke off (%s); reading again", self.job.name, entry["id"], error)
            except anthropic.APIStatusError as error:
                if not _transient(error):
                    raise BatchError(
                        f"could not download the results of batch {entry['id']}: {error.message}"
                    ) from None
            self.pause(attempt)
        raise BatchError(f"the results of batch {entry['id']} kept breaking off; run job {self.job.name!r} again later")

    def patiently(self, call: Callable, *args) -> Any:
        """An idempotent call, tried again through rate limits, overload and dropped connections."""
        import anthropic

        for attempt in range(ATTEMPTS):
            try:
                return call(*args)
            except (anthropic.APIConnectionError, anthropic.APIStatusError) as error:
                if attempt == ATTEMPTS - 1 or not _transient(error):
                    raise
                self.pause(attempt, error)

    def pause(self, attempt: int, error: Any = None) -> None:
        """Wait as the API asked (retry-after), else back off exponentially from the poll interval, with jitter."""
        seconds = _retry_after(error) if error is not None else None
        if seconds is None:
            seconds = min(min(self.poll, 1.0) * 2**attempt, 60.0) * random.uniform(0.5, 1.0)
        time.sleep(min(seconds, 600.0))

    def report(self) -> None:
        if self.progress:
            requests, answered, succeeded = self.job.db.execute(
                "SELECT count(*), count(answered), sum(outcome IS 'succeeded') FROM requests"
            ).fetchone()
            created = sum(1 for entry in self.job.batches if entry["id"])
            self.progress(Progress(self.job.name, requests, answered, succeeded, created, len(self.open_batches())))


def _transient(error: Any) -> bool:
    """Whether trying again can help: a dropped connection, a timeout, a rate limit, overload, a server error."""
    status = getattr(error, "status_code", None)
    return status is None or status in (408, 409, 429) or status >= 500


def _retry_after(error: Any) -> float | None:
    headers = getattr(getattr(error, "response", None), "headers", {})
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        try:
            return float(headers[name]) * scale
        except (KeyError, ValueError):
            pass
    return None


def _total(batch: Any) -> int:
    counts = batch.request_counts
    return counts.processing + counts.succeeded + counts.errored + counts.canceled + counts.expired


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _terminal_progress() -> Callable[[Progress], None] | None:
    """A one-line progress bar on stderr, when stderr is a terminal."""
    if not sys.stderr.isatty():
        return None

    def show(progress: Progress) -> None:
        filled = 30 * progress.answered // progress.requests
        sys.stderr.write(
            f"\r{progress.job} [{'#' * filled}{'-' * (30 - filled)}] {progress.answered:,}/{progress.requests:,} "
            f"answered, {progress.succeeded:,} succeeded; {progress.open_batches} of {progress.batches} batches open "
            + ("\n" if not progress.open_batches else "")
        )
        sys.stderr.flush()

    return show


class BatchResult:
    """A job's results, read from its store on demand (100,000 messages never sit in memory at once).

    texts and messages map custom_id to the text and the full message of each succeeded request;
    errors maps custom_id to ItemError(type, message); custom_ids, expired, canceled and missing
    (no result yet) list custom_ids; usage totals the tokens of the succeeded requests. Mappings
    and lists follow the input order.
    """

    def __init__(self, job: str, path: Path):
        self.job, self.path = job, Path(path)
        self._db = sqlite3.connect(self.path / "requests.sqlite", timeout=60)  # a run may be saving results
        self.texts: Mapping[str, str] = _Column(self._db, "text", "outcome = 'succeeded'")
        self.messages: Mapping[str, dict] = _Column(self._db, "message", "outcome = 'succeeded'", json.loads)
        self.errors: Mapping[str, ItemError] = _Column(
            self._db, "error_type, error_message", "outcome = 'errored'", ItemError._make
        )

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> BatchResult:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __len__(self) -> int:
        return self._db.execute("SELECT count(*) FROM requests").fetchone()[0]

    def __repr__(self) -> str:
        return f"<BatchResult {self.job!r}: {self.counts}>"

    @property
    def custom_ids(self) -> list[str]:
        """Every request's custom_id, in input order: zip it with your items to find each one's result."""
        return self._ids("1")

    @property
    def expired(self) -> list[str]:
        return self._ids("outcome = 'expired'")

    @property
    def canceled(self) -> list[str]:
        return self._ids("outcome = 'canceled'")

    @property
    def missing(self) -> list[str]:
        return self._ids("outcome IS NULL")

    @property
    def counts(self) -> dict[str, int]:
        """Requests per outcome ("missing": no result yet)."""
        rows = self._db.execute("SELECT coalesce(outcome, 'missing'), count(*) FROM requests GROUP BY 1")
        return dict(rows.fetchall())

    @property
    def ok(self) -> bool:
        """Whether every request succeeded."""
        return not self._db.execute("SELECT 1 FROM requests WHERE outcome IS NOT 'succeeded' LIMIT 1").fetchone()

    @property
    def usage(self) -> dict[str, int]:
        """Token totals of the succeeded requests, for the share of token volume that ran through batches."""
        sums = self._db.execute(f"SELECT {', '.join(f'total({key})' for key in USAGE)} FROM requests").fetchone()
        return {key: int(value) for key, value in zip(USAGE, sums)}

    def lines(self) -> Iterator[dict]:
        """Every stored result as the API gives it ({"custom_id", "result"}), in input order."""
        rows = self._db.execute(
            "SELECT custom_id, outcome, error_type, error_message, message FROM requests"
            " WHERE outcome IS NOT NULL ORDER BY seq"
        )
        for custom_id, outcome, error_type, error_message, message in rows:
            result: dict[str, Any] = {"type": outcome}
            if outcome == "succeeded":
                result["message"] = json.loads(message)
            elif outcome == "errored":
                result["error"] = {"type": "error", "error": {"type": error_type, "message": error_message}}
            yield {"custom_id": custom_id, "result": result}

    def _ids(self, where: str) -> list[str]:
        return [row[0] for row in self._db.execute(f"SELECT custom_id FROM requests WHERE {where} ORDER BY seq")]


class _Column(Mapping):
    """A read-only mapping custom_id -> value over the rows of the store that match a condition."""

    def __init__(self, db: sqlite3.Connection, columns: str, where: str, convert: Callable = None):
        self._db, self._columns, self._where = db, columns, where
        self._convert = convert or (lambda value: value)
        self._single = "," not in columns

    def __repr__(self) -> str:
        return f"<{len(self)} stored results where {self._where}>"

    def _value(self, row: tuple) -> Any:
        return self._convert(row[0] if self._single else row)

    def __getitem__(self, custom_id: str) -> Any:
        row = self._db.execute(
            f"SELECT {self._columns} FROM requests WHERE custom_id = ? AND {self._where}", (custom_id,)
        ).fetchone()
        if row is None:
            raise KeyError(custom_id)
        return self._value(row)

    def __iter__(self) -> Iterator[str]:
        for (custom_id,) in self._db.execute(f"SELECT custom_id FROM requests WHERE {self._where} ORDER BY seq"):
            yield custom_id

    def __len__(self) -> int:
        return self._db.execute(f"SELECT count(*) FROM requests WHERE {self._where}").fetchone()[0]

    def items(self) -> ItemsView:
        return _Items(self)


class _Items(ItemsView):
    def __iter__(self):  # one query instead of one per key
        column = self._mapping
        rows = column._db.execute(
            f"SELECT custom_id, {column._columns} FROM requests WHERE {column._where} ORDER BY seq"
        )
        for custom_id, *values in rows:
            yield custom_id, column._value(tuple(values))
