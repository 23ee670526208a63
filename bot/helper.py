"""run_batch(): Claude requests through the Message Batches API, every result kept."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import random
import re
import secrets
import sqlite3
import sys
import time
from collections.abc import Callable, ItemsView, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
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
EMPTY_BODY = len('{"requests":[]}')
WRAPPER = 64  # bytes a request adds to a body besides its params: {"custom_id":"<wire id, <= 36>","params":},
RESULTS_KEPT = timedelta(days=29)  # results can be downloaded this long after a batch is created
WARN_BEFORE = timedelta(days=3)
OVERDUE = timedelta(hours=1)  # a batch still running this long after it expired is stuck
CREATE_SLACK = timedelta(minutes=10)  # clock difference allowed when looking for a batch a lost answer made
ATTEMPTS = 8  # tries of one API step (a create, a status check, a results download)
CUSTOM_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")
SCHEMA_VERSION = 2  # 2: requests go out under wire ids, <job tag>-<batch number>-<seq>
JOB_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
USAGE = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
RETRYABLE = "outcome = 'expired' OR (outcome = 'errored' AND error_type IS NOT 'invalid_request_error')"

SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    seq INTEGER PRIMARY KEY,           -- the item's place in the input
    custom_id TEXT NOT NULL UNIQUE,    -- the caller's; the API sees <batch tag>-<seq>
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


class Plan(NamedTuple):
    """What a first run of some items sends: checked offline by plan()."""

    requests: int
    fingerprint: str
    batches: list[tuple[int, int]]  # (requests, bytes) of each batch


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
        client = default_client() if client is None else client  # after the items are checked
        this.save()
        _Run(this, client, poll, retries, progress or _terminal_progress()).until_done()
        this.record_usage()
    return this.result()


def plan(items: Iterable[Any], build_params: Callable[[Any], Mapping], custom_id=None) -> Plan:
    """Check the requests as run_batch does, offline and storing nothing, and say which batches a first run makes."""
    fingerprint, batches = _Fingerprint(), []
    for _, _, size in _sized(_requests(items, build_params, custom_id), fingerprint):
        if not batches or not _fits(*batches[-1], size, MAX_BYTES):
            batches.append((0, EMPTY_BODY))
        count, total = batches[-1]
        batches[-1] = (count + 1, total + size)
    return Plan(fingerprint.count, fingerprint.hexdigest(), batches)


def default_client() -> Any:
    """anthropic.Anthropic() as configured by the environment, refused when it has no credentials."""
    import anthropic  # only when a job runs: importing the SDK takes ~0.5 s

    client = anthropic.Anthropic()
    if not (client.api_key or client.auth_token or client.credentials):
        raise ValueError("no Anthropic credentials: set ANTHROPIC_API_KEY (or any other way the anthropic SDK reads)")
    return client


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """"1 request", "2 requests", "1,000 batches"."""
    return f"{count:,} {noun if count == 1 else nouns or noun + 's'}"


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


def _sized(requests: Iterable[tuple[str, str]], fingerprint: _Fingerprint) -> Iterator[tuple[str, str, int]]:
    """(custom_id, params, bytes it adds to a body) of each request, fingerprinted; refuses none at all."""
    for custom_id, params in requests:
        size = len(params.encode()) + WRAPPER
        if size + EMPTY_BODY > MAX_BYTES:
            raise ValueError(f"request {custom_id}: {size:,} bytes is more than a batch can hold")
        fingerprint.add(custom_id, params)
        yield custom_id, params, size
    if not fingerprint.count:
        raise ValueError("no items: there is nothing to send")


def _fits(count: int, size: int, request_size: int, max_bytes: int) -> bool:
    """Whether one more request fits a batch of `count` requests and `size` bytes."""
    return count < MAX_REQUESTS and size + request_size <= max_bytes


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
        self.manifest = _read_manifest(self._manifest_path)
        self._db: sqlite3.Connection | None = None

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = _open_db(self._db_path)
        return self._db

    @property
    def batches(self) -> list[dict]:
        return self.manifest["batches"] if self.manifest else []

    @contextmanager
    def locked(self):
        """Hold the job's lock, so two runs of one job never create batches side by side.

        A run refused before the job's manifest was written (bad items, no credentials) leaves nothing behind.
        """
        made = [folder for folder in (self.path.parent, self.path) if not folder.exists()]
        self.path.mkdir(parents=True, exist_ok=True)
        refused = False
        try:
            with open(self.path / "lock", "w") as lock:
                try:
                    if fcntl:
                        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise BatchError(f"job {self.name!r} is being run by another process") from None
                try:
                    yield
                except BaseException:
                    refused = not self._manifest_path.exists()  # no batch can exist without a manifest
                    raise
                finally:
                    self.close()
        finally:
            if refused:
                self._db_path.unlink(missing_ok=True)
                (self.path / "lock").unlink(missing_ok=True)
                for folder in reversed(made):
                    with suppress(OSError):  # another job may have been started in the store meanwhile
                        folder.rmdir()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def __enter__(self) -> Job:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def load(self, requests: Iterable[tuple[str, str]]) -> None:
        """Store the requests on the job's first run (the caller saves the manifest); on later runs check them."""
        fingerprint = _Fingerprint()
        requests = _sized(requests, fingerprint)
        if self.manifest is not None:
            for _ in requests:
                pass
            self.check_same(fingerprint.hexdigest(), fingerprint.count)
            if self.db.execute("SELECT count(*) FROM requests").fetchone()[0] != fingerprint.count:
                raise BatchError(f"{self._db_path} does not hold this job's requests; restore it from a backup")
            self._upgrade()
            self._forget_unrecorded_batches()
            return
        with self.db:
            self.db.execute("DELETE FROM requests")  # left by a first run that stopped before its manifest
            self.db.execute("DELETE FROM params")
            for seq, (custom_id, params, size) in enumerate(requests):
                self.db.execute("INSERT INTO requests (seq, custom_id, size) VALUES (?, ?, ?)", (seq, custom_id, size))
                self.db.execute("INSERT INTO params (seq, json) VALUES (?, ?)", (seq, params))
        self.manifest = {
            "schema_version": SCHEMA_VERSION,
            "job": self.name,
            "tag": secrets.token_hex(6),  # in every wire custom_id: proves which batches are this job's
            "fingerprint": fingerprint.hexdigest(),
            "requests": fingerprint.count,
            "created_at": _now().isoformat(),
            "batches": [],
        }

    def check_same(self, fingerprint: str, count: int) -> None:
        """Refuse requests other than those the job was started with."""
        if fingerprint != self.manifest["fingerprint"]:
            raise ValueError(
                f"job {self.name!r} was started with different requests ({self.manifest['requests']:,} then, "
                f"{count:,} now); its results are kept in {self.path}. "
                "Use a new job name, or delete that folder to start over."
            )

    def _upgrade(self) -> None:
        """A job begun before wire ids: its created batches answer under the callers' ids, later ones get tags."""
        tag = self.manifest.setdefault("tag", secrets.token_hex(6))
        for entry in self.batches:
            if entry["id"] is None:
                entry.setdefault("tag", f"{tag}-{entry['number']}")
        self.manifest["schema_version"] = SCHEMA_VERSION

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
        chosen, size = [], EMPTY_BODY
        rows = self.db.execute(
            f"SELECT seq, size FROM requests WHERE batch IS NULL"
            f" OR (answered = batch AND tries <= ? AND ({RETRYABLE})) ORDER BY seq",
            (retries,),
        )
        for seq, request_size in rows:
            if not _fits(len(chosen), size, request_size, max_bytes):
                break
            chosen.append(seq)
            size += request_size
        rows.close()
        if not chosen:
            return None
        number = max((entry["number"] for entry in self.batches), default=0) + 1
        with self.db:
            self.db.executemany("UPDATE requests SET batch = ? WHERE seq = ?", ((number, seq) for seq in chosen))
        entry = {
            "number": number,
            "tag": f"{self.manifest['tag']}-{number}",  # wire custom_ids are <tag>-<seq>
            "id": None,
            "requests": len(chosen),
            "bytes": size,
            "sent_at": _now().isoformat(),
        }
        self.batches.append(entry)
        self.save()
        return entry

    def batch_body(self, entry: dict) -> bytes:
        """The create request's JSON, written from the stored params text into one buffer (no dicts, no copies)."""
        body = io.BytesIO()
        body.write(b'{"requests":[')
        rows = self.db.execute(
            "SELECT seq, CAST(json AS BLOB) FROM params JOIN requests USING (seq) WHERE batch = ? ORDER BY seq",
            (entry["number"],),
        )
        tag, separator = entry["tag"].encode(), b""
        for seq, params in rows:
            body.write(b'%s{"custom_id":"%s-%d","params":' % (separator, tag, seq))
            body.write(params)
            body.write(b"}")
            separator = b","
        body.write(b"]}")
        return body.getvalue()  # shares BytesIO's buffer

    def confirm(self, entry: dict, batch: Any) -> None:
        """Record a created batch at once: from here on, a crash resumes it instead of creating another."""
        entry.update(id=batch.id, created_at=batch.created_at.isoformat(), expires_at=batch.expires_at.isoformat())
        entry.pop("candidates", None)
        self.note_status(entry, batch)
        self.save()
        log.info("job %s: batch %s created with %s", self.name, batch.id, plural(entry["requests"], "request"))

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
        key = "seq = :seq" if "tag" in entry else "custom_id = :custom_id"  # batches before wire ids: the callers' ids
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
                    + f" WHERE {key} AND batch = :batch",
                    {
                        **_result_row(line["result"]),
                        "seq": _seq(entry.get("tag"), custom_id),
                        "custom_id": custom_id,
                        "batch": entry["number"],
                    },
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
                    f"results of batch {entry['id']} ({plural(entry['requests'], 'request')}) were deleted by the API on "
                    f"{gone_at:%Y-%m-%d %H:%M} UTC, 29 days after it was created, before they were saved: they are lost"
                )
            elif _now() >= gone_at - WARN_BEFORE:
                found.append(
                    f"results of batch {entry['id']} ({plural(entry['requests'], 'request')}) will be deleted on "
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


def _read_manifest(path: Path) -> dict | None:
    """A job's manifest, None before its first run; a damaged one stops everything, naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        return _checked_manifest(json.loads(text))
    except ValueError as error:
        raise _damaged(path, error) from None


def _checked_manifest(manifest: Any) -> dict:
    """The manifest, if it has the shape the helper writes; else ValueError saying what is wrong."""
    if not isinstance(manifest, dict):
        raise ValueError(f"it holds {json.dumps(manifest)[:40]}, not a job")
    for key, kind in (("fingerprint", str), ("requests", int), ("batches", list)):
        if not isinstance(manifest.get(key), kind):
            raise ValueError(f"its {key!r} is {json.dumps(manifest.get(key))[:40]}, not a {kind.__name__}")
    for entry in manifest["batches"]:
        if not (
            isinstance(entry, dict)
            and all(isinstance(entry.get(key), int) for key in ("number", "requests", "bytes"))
            and isinstance(entry.get("sent_at"), str)
            and (entry.get("id") is None or isinstance(entry["id"], str) and isinstance(entry.get("created_at"), str))
        ):
            raise ValueError(f"a batch in it is not one the helper wrote: {json.dumps(entry)[:80]}")
    return manifest


def _open_db(path: Path) -> sqlite3.Connection:
    """The job's requests and results; a damaged file stops everything, naming the file."""
    db = sqlite3.connect(path, timeout=60)  # another process may be saving results
    try:
        db.executescript(SCHEMA)
        pages = db.execute("PRAGMA page_count").fetchone()[0] * db.execute("PRAGMA page_size").fetchone()[0]
        if pages > path.stat().st_size:
            raise sqlite3.DatabaseError(f"it is cut short: {path.stat().st_size:,} of {pages:,} bytes")
    except sqlite3.DatabaseError as error:
        db.close()
        if isinstance(error, sqlite3.OperationalError):  # locked, disk full: not damage
            raise
        raise _damaged(path, error) from None
    return db


def _damaged(path: Path, reason: Any) -> BatchError:
    return BatchError(
        f"{path} is damaged ({reason}). Nothing was sent and no result deleted. Restore it from a backup; or move "
        f"the folder {path.parent} aside and run the job again to start over (batches it already created are "
        "billed, and their results would not be saved)."
    )


def _seq(tag: str | None, wire_id: str) -> int | None:
    """The request a wire custom_id <tag>-<seq> names, when it carries this tag."""
    prefix, _, seq = wire_id.rpartition("-")
    return int(seq) if prefix == tag and seq.isdecimal() else None


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
            if not self.settled(entry):
                self.create(entry)
        waits = _backoff(self.poll)
        while True:
            while entry := self.job.next_batch(self.retries, self.max_bytes):
                self.create(entry)
            open_batches = self.open_batches()
            if not open_batches:
                return
            ended = self.check(open_batches)
            self.report()
            if not ended:
                time.sleep(next(waits))

    def create(self, entry: dict) -> None:
        """Create a batch without the SDK's automatic retries, which could create it twice.

        The body is the stored JSON text, sent as one bytes object with its Content-Length.
        """
        import anthropic  # only when a job runs: importing the SDK takes ~0.5 s
        from anthropic.types.messages import MessageBatch

        creator = self.client.with_options(max_retries=0)
        for attempt in range(ATTEMPTS):
            try:
                batch = creator.post(
                    "/v1/messages/batches",
                    cast_to=MessageBatch,
                    content=self.job.batch_body(entry),
                    options={"headers": {"content-type": "application/json"}},
                )
                return self.job.confirm(entry, batch)
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
            if self.settled(entry):
                return
        raise BatchError(f"could not create batch {entry['number']} of job {self.job.name!r}; run the job again later")

    def settled(self, entry: dict) -> bool:
        """Adopt the batch that a create whose answer was lost made, once it is proven; False when none was made.

        Candidates are listed batches of the workspace with as many requests, made since the create was sent.
        One is this batch only when its results' custom_ids carry the batch's tag: a candidate still
        processing is waited for. What was found, and why, is kept in the manifest for `batch status`.
        """
        import anthropic  # only when a job runs: importing the SDK takes ~0.5 s

        since = datetime.fromisoformat(entry["sent_at"]) - CREATE_SLACK
        known = {other["id"] for other in self.job.batches}
        waits = _backoff(self.poll)
        try:
            candidates = []
            for batch in self.client.messages.batches.list(limit=100):  # newest first
                if batch.created_at < since:
                    break
                if batch.id not in known and not batch.cancel_initiated_at and _total(batch) == entry["requests"]:
                    candidates.append(batch)
            while candidates:
                entry["candidates"], waiting = {}, []
                for batch in candidates:
                    if batch.processing_status != "ended":
                        entry["candidates"][batch.id] = "still processing: its results will show whose it is"
                        waiting.append(batch.id)
                    elif _seq(entry["tag"], self.patiently(self.first_id, batch.id)) is not None:
                        self.job.confirm(entry, batch)
                        return True
                    else:
                        entry["candidates"][batch.id] = f"another job's: its results' ids lack the tag {entry['tag']}"
                self.job.save()
                if waiting:
                    time.sleep(next(waits))
                candidates = [self.patiently(self.client.messages.batches.retrieve, batch_id) for batch_id in waiting]
        except anthropic.APIError as error:
            raise BatchError(
                f"creating batch {entry['number']} of job {self.job.name!r} got no answer, and whether the API made "
                f"it cannot be told now ({error.message}). Run the job again later: it adopts a batch only when "
                f"its results carry this batch's tag; `batch-review batch status {self.job.name}` shows the "
                "candidates and why."
            ) from error
        return False

    def first_id(self, batch_id: str) -> str:
        """The custom_id of the first line of a batch's results."""
        with self.client.messages.batches.with_streaming_response.results(batch_id) as response:
            return next(_lines(response), {}).get("custom_id", "")

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
            except (anthropic.APIConnectionError, anthropic.APIStatusError, _BrokenStream) as error:
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


def _backoff(first: float) -> Iterator[float]:
    """Waits growing 1.5x from `first` up to ten times it, with ±20 % jitter so that clients do not poll in step."""
    interval = first
    while True:
        yield interval * random.uniform(0.8, 1.2)
        interval = min(interval * 1.5, first * 10)


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
            f"answered, {progress.succeeded:,} succeeded; {progress.open_batches} of {plural(progress.batches, 'batch', 'batches')} open "
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
        self._db = _open_db(self.path / "requests.sqlite")
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
