"""The only module that talks to GitHub (PyGithub): read a PR, apply a plan.

Named `gh`, not `github`, so it never shadows PyGithub. Reads go through the API at the PR's head
SHA (never a checkout); writes change one comment and one label per call, never the whole set.
"""

import base64
import logging
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterable, Optional
from urllib.parse import parse_qs, quote, urlsplit

from github import (
    Auth,
    Github,
    GithubException,
    GithubIntegration,
    GithubRetry,
    RateLimitExceededException,
    UnknownObjectException,
)
from requests import RequestException
from requests.utils import parse_header_links
from urllib3 import Retry

from bot.core.commands import command_line
from bot.core.names import ANSWER_LABELS, COMMENT_MARKER, LABEL_STYLES, REACTIONS, REPLY_MARKER, REVIEWER_ROLES
from bot.core.onboarding import Entry
from bot.core.plan import Applied, ChangedFile, Comment, Plan, PullRequest, Reaction
from bot.core.workload import Label

log = logging.getLogger(__name__)
# PyGithub's debug log prints every answer in full: never the one that carries an installation token.
logging.getLogger("github.Requester").addFilter(
    lambda record: not any("/access_tokens" in str(arg) for arg in record.args or ()))

DEFAULT_API_URL = "https://api.github.com"
ACTIONS_LOGIN = "github-actions[bot]"  # the Actions token's login; `GET /user` answers that token 403


class GitHubError(Exception):
    """GitHub answered in a way the review cannot go on from; the message says what and where."""


class NotFound(GitHubError):
    """The pull request or a file is gone (404)."""


class Forbidden(GitHubError):
    """The token may not do this (403 that is no rate limit), such as a fork's read-only token writing."""


class RateLimited(GitHubError):
    """GitHub's rate limit still answered after the retries; `retry_after`: the seconds it asked for, when it did."""

    def __init__(self, message: str, retry_after: Optional[float] = None):
        super().__init__(message)
        self.retry_after = retry_after


WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})  # the requests GitHub's secondary limits count


@dataclass(frozen=True)
class Pacing:
    """How the client spares GitHub: PyGithub's throttle and its bounded `GithubRetry`."""

    retries: int = 5  # 403 secondary rate limits, 429 and 5xx are retried at most this often
    backoff: float = 1.0  # exponential backoff between retries without Retry-After: 0, 2, 4, 8, 16 s
    max_retry_after: int = 300  # the longest Retry-After honoured, in seconds
    secondary_rate_wait: float = 60  # the wait after a secondary rate limit that gives no Retry-After
    between_requests: float = 0.25  # PyGithub's default throttle
    between_writes: float = 1.0


@contextmanager
def _translated(what: str):
    """PyGithub and connection errors -> our GitHubError family, worded with what we were doing."""

    try:
        yield
    except UnknownObjectException:
        raise NotFound(f"{what}: GitHub answered 404 (not found)") from None
    except RateLimitExceededException as error:
        retry_after = {name.lower(): value for name, value in (error.headers or {}).items()}.get("retry-after", "")
        raise RateLimited(f"{what}: GitHub answered {error.status}: rate limit",
                          float(retry_after) if retry_after.isdigit() else None) from None
    except GithubException as error:
        message = error.data.get("message") if isinstance(error.data, dict) else error.data
        kind = Forbidden if error.status == 403 and not isinstance(error, RateLimitExceededException) else GitHubError
        raise kind(f"{what}: GitHub answered {error.status}: {message}") from None
    except RequestException as error:
        raise GitHubError(f"{what}: {type(error).__name__}: {error}") from None


class _Observed(GithubRetry):
    """PyGithub's retry, which urllib3 asks about every answer: it also tells `observe(method, status)`."""

    def __init__(self, observe: Optional[Callable[[str, int], None]] = None, **options):
        super().__init__(**options)
        self.observe = observe

    def new(self, **options):
        copy = super().new(**options)
        copy.observe = self.observe
        return copy

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if self.observe:
            self.observe(method, status_code)
        return super().is_retry(method, status_code, has_retry_after)


class GitHub:
    """A GitHub REST API client for one token; `base_url` is GITHUB_API_URL (GHES: https://HOST/api/v3).

    `token` is a token's text, or a PyGithub auth such as a GitHub App installation's (see `GitHubApp`).
    """

    def __init__(self, token, *, base_url: str = DEFAULT_API_URL, pacing: Pacing = Pacing(), per_page: int = 100,
                 observe: Optional[Callable[[str, int], None]] = None):

        retry = _Observed(
            observe=observe,
            total=pacing.retries,
            backoff_factor=pacing.backoff,
            secondary_rate_wait=pacing.secondary_rate_wait,
            retry_after_max=pacing.max_retry_after,
            status_forcelist=[429, *range(500, 600)],  # GithubRetry adds 403 and retries it only for rate limits
            allowed_methods=Retry.DEFAULT_ALLOWED_METHODS | {"GET", "POST", "PATCH"},
            raise_on_status=False,  # when retries run out, PyGithub raises on the last answer
        )
        self._api = Github(
            auth=Auth.Token(token) if isinstance(token, str) else token,
            base_url=base_url.rstrip("/"),
            per_page=per_page,
            retry=retry,
            seconds_between_requests=pacing.between_requests,
            seconds_between_writes=pacing.between_writes,
            lazy=True,  # no request until an attribute is read: `get_repo` costs nothing
        )

    @classmethod
    def from_env(cls, token, env, **options) -> "GitHub":
        """A client for `GITHUB_API_URL` in `env` (GitHub Enterprise Server), else github.com."""
        return cls(token, base_url=env.get("GITHUB_API_URL") or DEFAULT_API_URL, **options)

    def _repo(self, repo: str):
        return self._api.get_repo(repo)

    def rate_remaining(self) -> Optional[int]:
        """Requests left in the token's hourly budget, as GitHub's last answer said (None before any)."""
        remaining, _ = self._api.requester.rate_limiting
        return remaining if remaining >= 0 else None

    def identity(self, override: Optional[str] = None) -> str:
        """The login our comments carry: the override, the personal token's user, else the Actions bot."""
        if override:
            return override
        try:
            with _translated("who am I (GET /user)"):
                return self._api.get_user().login
        except Forbidden:
            return ACTIONS_LOGIN

    def _text(self, repo: str, path: str, ref: Optional[str] = None) -> Optional[str]:
        """A file's text at ref (default branch without); None for a directory or a file too large for the API."""
        with _translated(f"{repo}:{path}" + (f" at {ref[:12]}" if ref else "")):
            content = self._repo(repo).get_contents(path, **({"ref": ref} if ref else {}))
            if isinstance(content, list) or content.encoding != "base64":
                return None
            return content.decoded_content.decode("utf-8", errors="replace")

    def read_text(self, repo: str, path: str, ref: Optional[str] = None) -> Optional[str]:
        """A file at ref (default: the default branch, for config), or None when missing or unreadable."""
        try:
            return self._text(repo, path, ref)
        except (NotFound, Forbidden):
            return None

    def comments(self, repo: str, number: int) -> tuple:
        """The PR's comments that carry our marker or a /batch-review command, every page, oldest first."""
        with _translated(f"comments of {repo}#{number}"):
            return tuple(Comment(c.id, c.user.login if c.user else "", c.body, c.html_url,
                                 c.author_association or "",
                                 c.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ") if c.updated_at else "",
                                 tuple(name for name, count in (c.reactions or {}).items()
                                       if name not in ("url", "total_count") and isinstance(count, int) and count > 0))
                         for c in self._repo(repo).get_issue(number).get_comments()
                         if c.body and (COMMENT_MARKER in c.body or REPLY_MARKER in c.body
                                        or command_line(c.body) is not None))

    def pull_request(self, repo: str, number: int, *, is_design_doc: Callable[[str], bool] = lambda path: False,
                     comments: tuple = (), known: Optional[dict] = None, doc_paths: Optional[tuple] = None) -> PullRequest:
        """The PR with every page of its files and design docs at the head SHA.

        `known`: the event's `pull_request`, trusted as current (no `GET /pulls/{n}`); `doc_paths`: the
        design docs already known at its head SHA (no file list: the caller keeps the diff's scan).
        """
        with _translated(f"pull request {repo}#{number}"):
            lazy = self._repo(repo).get_pull(number)  # no request until an attribute is read
            pull = known or lazy.raw_data
            head_sha = pull["head"]["sha"]
            base, head_repo = pull["base"]["repo"], pull["head"].get("repo")
            if doc_paths is None:
                files = tuple(ChangedFile(f.filename, f.status, f.patch) for f in lazy.get_files())
                doc_paths = tuple(f.path for f in files if f.status != "removed" and is_design_doc(f.path))
            else:
                files = ()
            names = [label["name"] for label in pull.get("labels") or ()]
            issue = self._repo(repo).get_issue(number)
            applied_by = self._label_appliers(issue) if any(name in ANSWER_LABELS for name in names) else {}
            docs = tuple((path, text) for path in doc_paths for text in [self._text(repo, path, head_sha)]
                         if text is not None)
            return PullRequest(
                repo=repo,
                number=number,
                head_sha=head_sha,
                body=pull.get("body"),
                author=(pull.get("user") or {}).get("login", ""),
                draft=bool(pull.get("draft")),
                default_branch=base["default_branch"],
                html_url=base["html_url"],
                updated_at=pull.get("updated_at") or "",
                fork=head_repo is None or head_repo["full_name"] != base["full_name"],
                labels=tuple(Label(name, applied_by.get(name)) for name in names),
                files=files,
                docs=docs,
                comments=comments,
                base_sha=pull["base"]["sha"],
            )

    @staticmethod
    def _label_appliers(issue) -> dict:
        """label name -> login of whoever applied it last (the issue's events, every page)."""
        applied_by = {}
        for event in issue.get_events():
            if event.event == "labeled" and event.label:
                applied_by[event.label.name] = event.actor.login if event.actor else None
        return applied_by

    def apply(self, repo: str, number: int, plan: Plan) -> Applied:
        """Write what the plan says: the comment first, then duplicates, then labels one call each."""
        issue = self._repo(repo).get_issue(number)
        url = plan.sticky.url if plan.sticky else ""
        try:
            with _translated(f"writing to {repo}#{number}"):
                if plan.comment_body is not None and plan.comment_id is None:
                    url = issue.create_comment(plan.comment_body).html_url
                elif plan.comment_body is not None:
                    comment = issue.get_comment(plan.comment_id)
                    comment.edit(plan.comment_body)
                    url = comment.html_url
                for comment_id in plan.delete:
                    self._gone_is_fine(issue.get_comment(comment_id).delete)
                for name in plan.remove_labels:
                    self._gone_is_fine(lambda: issue.remove_from_labels(name))
                for name in plan.add_labels:
                    self._add_label(repo, issue, name)
                for reaction in plan.reactions:
                    self._gone_is_fine(lambda: self._react(repo, reaction))
                for body in plan.replies:
                    issue.create_comment(body)
        except Forbidden:
            return Applied(url, read_only=True)
        return Applied(url)

    def _react(self, repo: str, reaction: Reaction) -> None:
        """Our reaction to a comment, once: the comment's reactions are listed only when one of ours may be there;
        ours of the other kind (+1 or confused, the command was edited) goes."""
        url = f"{self._repo(repo).url}/issues/comments/{reaction.comment_id}/reactions"
        request = self._api.requester.requestJsonAndCheck
        mine = []
        if set(REACTIONS.values()) & set(reaction.present):
            page = 1
            while True:
                _, listed = request("GET", url, parameters={"per_page": 100, "page": page})
                mine += [(found["id"], found["content"]) for found in listed
                         if (found.get("user") or {}).get("login") == reaction.by]
                if len(listed) < 100:
                    break
                page += 1
        if reaction.content not in {content for _, content in mine}:
            request("POST", url, input={"content": reaction.content})
        for reaction_id, content in mine:
            if content != reaction.content and content in REACTIONS.values():
                request("DELETE", f"{url}/{reaction_id}")

    @staticmethod
    def _gone_is_fine(call):
        """Deleting what someone else already deleted is done, not an error."""

        try:
            call()
        except UnknownObjectException:
            pass

    def _add_label(self, repo: str, issue, name: str) -> None:
        """Apply one of our labels: one call when it exists; GitHub creates a missing one grey, so style it then."""
        _, applied = self._api.requester.requestJsonAndCheck("POST", f"{issue.url}/labels", input=[name])
        color, description = LABEL_STYLES[name]
        created = next((label for label in applied if label["name"].lower() == name.lower()), None)
        if created is not None and not created.get("description") and created.get("color", "").lower() != color:
            self._repo(repo).get_label(name).edit(name, color, description)

    def create_label(self, repo: str, name: str) -> bool:
        """Create one of our labels with its colour and description; False when it exists already."""

        color, description = LABEL_STYLES[name]
        with _translated(f"creating label {name} in {repo}"):
            try:
                self._repo(repo).create_label(name, color, description)
            except GithubException as error:
                if error.status == 422:  # already there, e.g. created by another run in between
                    return False
                raise
        return True

    def labels(self, repo: str) -> dict:
        """Every label of the repository: name -> (colour, description)."""
        with _translated(f"labels of {repo}"):
            return {label.name: (label.color, label.description or "") for label in self._repo(repo).get_labels()}

    def merged_pulls(self, repo: str, since) -> list:
        """(number, body, web address) of each pull request merged at or after `since` (an aware datetime).

        Closed pull requests, most recently updated first, every page until one was last updated before `since`.
        """
        found = []
        with _translated(f"merged pull requests of {repo}"):
            for pull in self._repo(repo).get_pulls(state="closed", sort="updated", direction="desc"):
                if pull.updated_at < since:
                    break
                if pull.merged_at and pull.merged_at >= since:
                    found.append((pull.number, pull.body or "", pull.html_url))
        return found

    def check_run(self, repo: str, head_sha: str, name: str, conclusion: str, title: str, summary: str, *,
                  run_id: Optional[int] = None, app_id: Optional[int] = None, actions: tuple = (),
                  external_id: str = "") -> int:
        """The App's completed check run on a commit, one per commit; returns its id (an Actions job is its own check).

        Updates run `run_id`, else the run named `name` that App `app_id` made on the commit, else creates one.
        `actions` are its buttons (none: the earlier ones go); `external_id` names the pull request a click is for.
        """
        fields = {"status": "completed", "conclusion": conclusion, "output": {"title": title, "summary": summary[:65535]},
                  "actions": list(actions), **({"external_id": external_id} if external_id else {})}
        with _translated(f"check run {name} on {repo}@{head_sha[:12]}"):
            repository = self._repo(repo)
            if run_id is None and app_id is not None:
                _, found = self._api.requester.requestJsonAndCheck(
                    "GET", f"{repository.url}/commits/{head_sha}/check-runs", parameters={"check_name": name, "app_id": app_id})
                run_id = next((run["id"] for run in found["check_runs"]), None)
            if run_id is not None:
                try:
                    repository.get_check_run(run_id).edit(**fields)
                    return run_id
                except UnknownObjectException:  # deleted meanwhile: make another
                    pass
            return repository.create_check_run(name, head_sha, **fields).id

    def may_answer(self, repo: str, login: str) -> bool:
        """Whether `login` has a role on `repo` that answers as a reviewer: triage, write, maintain or admin."""
        try:
            with _translated(f"{login}'s permission on {repo}"):
                _, found = self._api.requester.requestJsonAndCheck(
                    "GET", f"{self._repo(repo).url}/collaborators/{login}/permission")
        except NotFound:  # no such user
            return False
        return found.get("role_name") in REVIEWER_ROLES or found.get("permission") in ("admin", "write")

    def count_issues(self, query: str) -> int:
        """How many issues and pull requests GitHub's search finds (`GET /search/issues`, one request)."""
        with _translated(f"searching GitHub for {query!r}"):
            return self._api.search_issues(query).totalCount

    def open_issue(self, repo: str, title: str, body: str, marker: str) -> str:
        """Open an issue, unless one with this title whose body holds `marker` exists; its URL either way."""
        with _translated(f"opening the issue {title!r} in {repo}"):
            for found in self._api.search_issues(f'repo:{repo} is:issue in:title "{title}"'):
                if found.title == title and marker in (found.body or ""):
                    return found.html_url
            return self._repo(repo).create_issue(title=title, body=body).html_url

    def upsert_issue(self, repo: str, title: str, body: str, marker: str) -> str:
        """Update the open issue with this title whose body holds `marker` (when its body differs), else open one;
        its URL either way (`GET /search/issues`, then `PATCH` or `POST /repos/{owner}/{repo}/issues`)."""
        with _translated(f"opening or updating the issue {title!r} in {repo}"):
            for found in self._api.search_issues(f'repo:{repo} is:issue is:open in:title "{title}"'):
                if found.title == title and marker in (found.body or ""):
                    if found.body != body:
                        found.edit(body=body)
                    return found.html_url
            return self._repo(repo).create_issue(title=title, body=body).html_url

    def search_pulls(self, query: str, limit: int) -> tuple:
        """The numbers of at most `limit` pull requests GitHub's search finds, most recently updated first (one page)."""
        with _translated(f"searching GitHub for {query!r}"):
            found = self._api.search_issues(query, sort="updated", order="desc")
            return tuple(item.number for item in found.get_page(0)[:limit])


    def review_comments(self, repo: str, number: int, author: str) -> tuple:
        """(id, body) of `author`'s review comments on the PR's lines, every page."""
        with _translated(f"review comments of {repo}#{number}"):
            return tuple((c.id, c.body) for c in self._repo(repo).get_pull(number).get_review_comments()
                         if c.user and c.user.login == author)

    def post_review(self, repo: str, number: int, head_sha: str, comments: tuple, delete: tuple = ()) -> bool:
        """Delete review comments by id, then post one COMMENT review with `comments`; False on a read-only token."""
        url = f"{self._repo(repo).url}/pulls"
        request = self._api.requester.requestJsonAndCheck
        try:
            with _translated(f"reviewing {repo}#{number}"):
                for comment_id in delete:
                    self._gone_is_fine(lambda: request("DELETE", f"{url}/comments/{comment_id}"))
                if comments:
                    request("POST", f"{url}/{number}/reviews",
                            input={"commit_id": head_sha, "event": "COMMENT", "comments": list(comments)})
        except Forbidden:
            return False
        return True

    # --- onboarding pull requests: the repository, its folders and files, a branch, a pull request -------

    def _request(self, method: str, url: str, **options):
        return self._api.requester.requestJsonAndCheck(method, url, **options)[1]

    def repository(self, repo: str) -> dict:
        """The repository as `GET /repos/{owner}/{repo}` shows it (archived, fork, default_branch...)."""
        with _translated(f"repository {repo}"):
            return self._request("GET", self._repo(repo).url)

    def branch_sha(self, repo: str, branch: str) -> Optional[str]:
        """The commit a branch points at; None when it does not exist (or the repository is empty: 409)."""
        try:
            with _translated(f"branch {branch} of {repo}"):
                return self._request("GET", f"{self._repo(repo).url}/git/ref/heads/{quote(branch)}")["object"]["sha"]
        except NotFound:
            return None
        except GitHubError as error:
            if " 409:" in str(error):  # "Git Repository is empty."
                return None
            raise

    def list_folder(self, repo: str, path: str, ref: Optional[str] = None) -> Optional[list]:
        """A folder's entries ("" is the root) as `Entry`s; None when it is missing or a file."""
        url = f"{self._repo(repo).url}/contents/{quote(path)}"
        try:
            with _translated(f"{repo}:{path or '/'}"):
                found = self._request("GET", url, parameters={"ref": ref} if ref else None)
        except NotFound:
            return None
        return [Entry(item["name"], item["type"]) for item in found] if isinstance(found, list) else None

    def file(self, repo: str, path: str, ref: Optional[str] = None) -> Optional[tuple]:
        """(text, blob sha) of a file at ref, or None when it is missing (the sha is what a change must name)."""
        try:
            with _translated(f"{repo}:{path}" + (f" at {ref}" if ref else "")):
                content = self._repo(repo).get_contents(path, **({"ref": ref} if ref else {}))
        except NotFound:
            return None
        if isinstance(content, list) or content.encoding != "base64":
            return None
        return content.decoded_content.decode("utf-8", errors="replace"), content.sha

    def create_branch(self, repo: str, branch: str, sha: str) -> None:
        """A branch at commit `sha`."""
        with _translated(f"creating branch {branch} in {repo}"):
            self._request("POST", f"{self._repo(repo).url}/git/refs", input={"ref": f"refs/heads/{branch}", "sha": sha})

    def put_file(self, repo: str, path: str, text: str, *, message: str, branch: str, sha: Optional[str] = None) -> None:
        """Commit a file's new text on a branch; `sha`: the blob it replaces (None: a new file)."""
        body = {"message": message, "content": base64.b64encode(text.encode("utf-8")).decode("ascii"), "branch": branch}
        with _translated(f"writing {path} on {repo}@{branch}"):
            self._request("PUT", f"{self._repo(repo).url}/contents/{quote(path)}", input={**body, **({"sha": sha} if sha else {})})

    def pulls_from(self, repo: str, branch: str) -> list:
        """(state, merged, web address) of each pull request from the repository's own `branch`, newest first."""
        owner = repo.split("/", 1)[0]
        with _translated(f"pull requests from {branch} in {repo}"):
            pulls = self._repo(repo).get_pulls(state="all", head=f"{owner}:{branch}", sort="created", direction="desc")
            return [(pull.state, pull.merged_at is not None, pull.html_url) for pull in pulls]

    def open_pull(self, repo: str, *, title: str, body: str, head: str, base: str) -> str:
        """Open a pull request from `head` into `base`; its web address."""
        with _translated(f"opening the pull request {title!r} in {repo}"):
            return self._request("POST", f"{self._repo(repo).url}/pulls",
                                 input={"title": title, "body": body, "head": head, "base": base})["html_url"]



class GitHubApp:
    """One GitHub App: `installation(id)` is a `GitHub` client acting as that installation.

    PyGithub signs a JWT with the App's key to get each installation's access token and reuses
    the token until shortly before it expires. A PyGithub client must not be shared between
    threads (two requests at once get each other's method, URL or answer), so each thread keeps
    its own client, and token, per installation. `login()` is the App's identity,
    `<app slug>[bot]`, from `GET /app` (asked once).
    """

    def __init__(self, app_id: int, private_key: str, *, base_url: str = DEFAULT_API_URL, pacing: Pacing = Pacing(),
                 observe: Optional[Callable[[str, int], None]] = None,
                 count_write: Optional[Callable[[int], None]] = None):
        """`observe(method, status)` hears every answer; `count_write(installation_id)` every write an installation sends."""
        self.app_id = app_id
        self._count_write = count_write
        self._auth = Auth.AppAuth(app_id, private_key)
        self._base_url, self._pacing, self._observe = base_url, pacing, observe
        self._local = threading.local()  # .clients: installation id -> GitHub, for this thread
        self.known_login: Optional[str] = None  # set once `login()` succeeded
        self.login_error: Optional[str] = None  # why the last try failed

    def installation(self, installation_id: int) -> GitHub:
        clients = self._local.__dict__.setdefault("clients", {})
        if installation_id not in clients:
            auth = self._auth.get_installation_auth(int(installation_id))
            clients[installation_id] = GitHub(auth, base_url=self._base_url, pacing=self._pacing,
                                              observe=self._observer(installation_id))
        return clients[installation_id]

    def _observer(self, installation_id: int) -> Optional[Callable[[str, int], None]]:
        if self._count_write is None:
            return self._observe

        def observe(method: str, status: int) -> None:
            if self._observe:
                self._observe(method, status)
            if method in WRITE_METHODS:
                self._count_write(installation_id)
        return observe

    def _integration(self):
        """PyGithub's client for the App's own endpoints, signed with its JWT."""

        return GithubIntegration(auth=self._auth, base_url=self._base_url.rstrip("/"))

    def installation_for(self, repo: str) -> GitHub:
        """The client of the installation that covers `repo` (`GET /repos/{owner}/{repo}/installation`)."""
        owner, name = repo.split("/", 1)
        with _translated(f"the App's installation on {repo}"):
            return self.installation(self._integration().get_repo_installation(owner, name).id)

    def repositories(self, installations: Iterable[int] = ()) -> list:
        """(installation id, full name, repository id) of each repository the App is installed on, in `installations`
        only if given: `GET /app/installations` with the JWT, then `GET /installation/repositories` with each
        installation's token. Suspended installations are left out (GitHub refuses their tokens)."""
        only = set(installations)
        with _translated("the App's installations and their repositories"):
            return [(installation.id, repo.full_name, repo.id) for installation in self._integration().get_installations()
                    if (not only or installation.id in only) and installation.suspended_at is None
                    for repo in installation.get_repos()]

    def deliveries(self, pages: int = 20) -> list:
        """The App's webhook deliveries, every attempt, newest first: `pages` cursor pages of 100 at most."""
        requester, found, cursor = self._integration().requester, [], None
        with _translated("the App's webhook deliveries (GET /app/hook/deliveries)"):
            for _ in range(pages):
                headers, page = requester.requestJsonAndCheck(
                    "GET", "/app/hook/deliveries", parameters={"per_page": 100, **({"cursor": cursor} if cursor else {})})
                found += page
                cursor = next((parse_qs(urlsplit(link["url"]).query).get("cursor", [None])[0]
                               for link in parse_header_links(headers.get("link", "")) if link.get("rel") == "next"), None)
                if not page or not cursor:
                    break
        return found

    def redeliver(self, delivery_id: int) -> None:
        """Ask GitHub to send a delivery again (its numeric `id`; the redelivery keeps the GUID)."""
        with _translated(f"redelivering webhook delivery {delivery_id}"):
            self._integration().requester.requestJsonAndCheck("POST", f"/app/hook/deliveries/{delivery_id}/attempts")

    def login(self) -> str:
        if self.known_login is None:
            with _translated("who is the App (GET /app)"):
                slug = self._integration().get_app().slug
            self.known_login, self.login_error = f"{slug}[bot]", None
        return self.known_login

    def learn_login(self, stop: threading.Event, first_wait: float = 1.0, longest_wait: float = 60.0) -> None:
        """Ask for the login until it is known (a start-up thread), waiting longer after each failure."""
        wait = first_wait
        while self.known_login is None and not stop.is_set():
            try:
                log.info("batch-review App identity: %s", self.login())
            except GitHubError as error:  # GitHub down, or the App's id or key refused: say so, try again
                self.login_error = str(error)
                log.warning("%s; trying again in %.0f s", error, wait)
                stop.wait(wait)
                wait = min(wait * 2, longest_wait)
