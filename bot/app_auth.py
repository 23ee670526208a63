"""Authenticate as the GitHub App: a JWT from its key, a client per installation, and its own identity."""

from __future__ import annotations

import logging
import threading
from typing import Optional

log = logging.getLogger(__name__)


class GitHubApp:
    """PyGithub clients for one App.

    `installation(id)` gives a client whose installation access token PyGithub fetches with the
    App's JWT and reuses until shortly before it expires; `login()` is `<app slug>[bot]` from
    `GET /app`. `options` go to every PyGithub client (e.g. no waits between requests in tests).
    """

    def __init__(self, app_id: int, private_key: str, api_url: str, **options):
        from github import Auth

        self._auth = Auth.AppAuth(app_id, private_key)
        self._options = {"base_url": api_url, **options}
        self._clients: dict = {}
        self._lock = threading.Lock()
        self.known_login: Optional[str] = None  # set once `login()` succeeded
        self.login_error: Optional[str] = None

    def installation(self, installation_id: int):
        from github import Github

        with self._lock:
            if installation_id not in self._clients:
                auth = self._auth.get_installation_auth(int(installation_id))
                self._clients[installation_id] = Github(auth=auth, **self._options)
            return self._clients[installation_id]

    def login(self) -> str:
        """The App's own login, asked once (the JWT authenticates `GET /app`)."""
        if self.known_login is None:
            from github import GithubIntegration

            slug = GithubIntegration(auth=self._auth, **self._options).get_app().slug
            self.known_login, self.login_error = f"{slug}[bot]", None
        return self.known_login

    def learn_login(self, stop: threading.Event, first_wait: float = 1.0, longest_wait: float = 60.0) -> None:
        """Ask for the login until it is known (run in a thread at start-up), waiting longer after each failure."""
        wait = first_wait
        while self.known_login is None and not stop.is_set():
            try:
                log.info("batch-review App identity: %s", self.login())
            except Exception as error:  # GitHub down or the App's id/key rejected: say so, try again
                self.login_error = f"{type(error).__name__}: {error}"
                log.warning("cannot ask GitHub who the App is (GET /app): %s; trying again in %.0f s",
                            self.login_error, wait)
                stop.wait(wait)
                wait = min(wait * 2, longest_wait)
