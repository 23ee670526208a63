"""The App's settings from the environment, each checked by name."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from bot.clients.github import DEFAULT_API_URL
from bot.core.config import is_http_url

DEFAULT_URL = "sqlite:///batch-review.sqlite3"  # the embedded default: a SQLite file in the working directory


DEFAULT_WORKERS = 2  # worker threads inside the web process (BATCH_REVIEW_WORKERS; 0 = none)
DEFAULT_WRITE_BUDGETS = {60: 80, 3600: 500}  # GitHub's documented secondary limits, per installation
DEFAULT_RETENTION_DAYS = 180  # review history older than this is deleted daily (BATCH_REVIEW_RETENTION_DAYS)


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it and says what it must be."""


@dataclass(frozen=True)
class Settings:
    app_id: int
    private_key: str = field(repr=False)
    webhook_secret: str = field(repr=False)
    api_url: str = DEFAULT_API_URL
    database_url: str = DEFAULT_URL
    workers: int = DEFAULT_WORKERS
    write_budgets: Mapping = field(default_factory=lambda: dict(DEFAULT_WRITE_BUDGETS))  # window seconds -> writes
    retention_days: int = DEFAULT_RETENTION_DAYS


def _app_id(env: Mapping) -> int:
    value = (env.get("GITHUB_APP_ID") or "").strip()
    if not value:
        raise SettingsError("GITHUB_APP_ID is not set: give the App's numeric id (its settings page, \"App ID\").")
    if not value.isdigit() or int(value) <= 0:
        raise SettingsError(f"GITHUB_APP_ID must be the App's numeric id, not {value!r}.")
    return int(value)


def _private_key(env: Mapping) -> str:
    text, path = env.get("GITHUB_APP_PRIVATE_KEY"), env.get("GITHUB_APP_PRIVATE_KEY_PATH")
    if text and path:
        raise SettingsError("GITHUB_APP_PRIVATE_KEY and GITHUB_APP_PRIVATE_KEY_PATH are both set; set only one.")
    if path:
        name = "GITHUB_APP_PRIVATE_KEY_PATH"
        try:
            text = Path(path).read_text()
        except (OSError, UnicodeDecodeError) as error:
            raise SettingsError(f"GITHUB_APP_PRIVATE_KEY_PATH: cannot read {path}: {error}.") from None
    elif text:
        name = "GITHUB_APP_PRIVATE_KEY"
        if "\\n" in text and "\n" not in text.strip():
            text = text.replace("\\n", "\n")  # a PEM kept on one line with escaped newlines
    else:
        raise SettingsError("GITHUB_APP_PRIVATE_KEY (the PEM text) or GITHUB_APP_PRIVATE_KEY_PATH (its file) "
                            "is not set: use the private key generated on the App's settings page.")

    try:
        key = load_pem_private_key(text.strip().encode(), password=None)
    except (ValueError, TypeError):
        raise SettingsError(f"{name} does not hold a PEM private key that loads "
                            "(expected \"-----BEGIN RSA PRIVATE KEY-----\" ..., without a password).") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise SettingsError(f"{name} must be an RSA key, as GitHub generates for Apps.")
    return text.strip() + "\n"


def _webhook_secret(env: Mapping) -> str:
    value = env.get("GITHUB_WEBHOOK_SECRET") or ""
    if not value:
        raise SettingsError("GITHUB_WEBHOOK_SECRET is not set: use the webhook secret from the App's settings page.")
    return value


def http_url(value: str, name: str, example: str) -> str:
    """`value` without its trailing slash when it is an http(s) URL with a host; else SettingsError naming `name`."""
    value = value.strip().rstrip("/")
    if not is_http_url(value):
        raise SettingsError(f"{name} must be an http(s) URL with a host, such as {example}, not {value!r}.")
    return value


def _api_url(env: Mapping) -> str:
    return http_url(env.get("GITHUB_API_URL") or DEFAULT_API_URL, "GITHUB_API_URL",
                    f"{DEFAULT_API_URL} (or https://HOST/api/v3 for GitHub Enterprise Server)")


def database_url(env: Mapping) -> str:

    value = env.get("DATABASE_URL") or DEFAULT_URL
    try:
        backend = sa.engine.make_url(value).get_backend_name()
    except sa.exc.ArgumentError:
        backend = None
    if backend not in ("sqlite", "postgresql", "postgres"):
        raise SettingsError("DATABASE_URL must be a SQLite or PostgreSQL URL, e.g. sqlite:///batch-review.sqlite3 "
                            "or postgresql://user:password@host/dbname.")
    return value


def _workers(env: Mapping) -> int:
    value = str(env.get("BATCH_REVIEW_WORKERS", DEFAULT_WORKERS)).strip()
    if not value.isdigit():
        raise SettingsError(f"BATCH_REVIEW_WORKERS must be a whole number of worker threads (0: none), not {value!r}.")
    return int(value)


def write_budgets(env: Mapping) -> dict:
    """GITHUB_WRITE_BUDGETS: comma-separated WRITES/SECONDS, e.g. "80/60,500/3600" (each installation's budgets)."""
    value = env.get("GITHUB_WRITE_BUDGETS")
    if value is None:
        return dict(DEFAULT_WRITE_BUDGETS)
    budgets = {}
    for part in str(value).split(","):
        writes, _, seconds = part.strip().partition("/")
        if not (writes.isdigit() and seconds.isdigit() and int(writes) > 0 and int(seconds) > 0):
            raise SettingsError(f"GITHUB_WRITE_BUDGETS must be budgets WRITES/SECONDS separated by commas, such as "
                                f"\"80/60,500/3600\" (GitHub's limits), not {value!r}.")
        budgets[int(seconds)] = int(writes)
    return budgets


def retention_days(env: Mapping) -> int:
    value = str(env.get("BATCH_REVIEW_RETENTION_DAYS", DEFAULT_RETENTION_DAYS)).strip()
    if not value.isdigit() or int(value) <= 0:
        raise SettingsError(f"BATCH_REVIEW_RETENTION_DAYS must be a whole number of days above 0 (default "
                            f"{DEFAULT_RETENTION_DAYS}): review history older than that is deleted daily; not {value!r}.")
    return int(value)


def load(env: Mapping, webhook: bool = True) -> Settings:
    """Settings from `env` (os.environ, or a test's mapping); `webhook=False` for a worker, which needs no secret.

    Every missing or malformed setting is named in one SettingsError, so one restart fixes them all.
    """
    checks = {"app_id": _app_id, "private_key": _private_key, "webhook_secret": _webhook_secret if webhook else None,
              "api_url": _api_url, "database_url": database_url, "workers": _workers,
              "write_budgets": write_budgets, "retention_days": retention_days}
    values, problems = {}, []
    for name, check in checks.items():
        try:
            values[name] = check(env) if check else ""
        except SettingsError as error:
            problems.append(str(error))
    if len(problems) > 1:
        raise SettingsError(f"{len(problems)} settings need fixing:\n" + "\n".join(f"- {p}" for p in problems))
    if problems:
        raise SettingsError(problems[0])
    return Settings(**values)
