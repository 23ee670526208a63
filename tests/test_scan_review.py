"""The diff scan in the review: through the Action on a fake GitHub API, and the pure plan around it."""

import json

import jsonschema

from benchmarks.bench_scan_quality import CORPUS
from bot.clients.github import ACTIONS_LOGIN, GitHub
from bot.core.config import from_mapping
from bot.core.names import COMMENT_MARKER, STATE_MARKER
from bot.core.plan import ChangedFile, Comment, PullRequest, plan, remembered_scan
from bot.core.render import hidden_state, read_state, with_code
from bot.review import run
from bot.scan.cache import to_cache
from bot.scan.model import ALL, FileChange
from bot.scan.scanner import scan
from tests.checklists import CANDIDATE, PR_TEMPLATE
from tests.conftest import load_schema
from tests.fake_github import NO_WAITS
from tests.test_action import (  # noqa: F401
    CONTENTS,
    NUMBER,
    REPO,
    TOKEN,
    action,
    comments_by,
    github,
    payload,
)

ENRICH = """\
import anthropic

client = anthropic.Anthropic()


def main(rows):
    for row in rows:
        client.messages.create(
            model="claude-haiku-4-5",
            max_tokens=100,
            messages=[{"role": "user", "content": row}],
        )
"""
ADDS_THE_JOB = """\
@@ -1,3 +1,12 @@
 import anthropic
 
 client = anthropic.Anthropic()
+
+
+def main(rows):
+    for row in rows:
+        client.messages.create(
+            model="claude-haiku-4-5",
+            max_tokens=100,
+            messages=[{"role": "user", "content": row}],
+        )"""
TWEAKS_THE_PROMPT = """\
@@ -9,3 +9,3 @@ def main(rows):
             model="claude-haiku-4-5",
-            max_tokens=50,
+            max_tokens=100,
             messages=[{"role": "user", "content": row}],"""
UNRELATED = [("src/views.py", "@@ -1 +1 @@\n-a\n+b"), ("README.md", "@@ -1 +1 @@\n-x\n+y")]
CTA = ("calls `messages.create` inside a loop over `rows`, in an offline-job folder (`jobs/`); "
       "if nothing waits on it, this is a batch candidate.**")


def open_pr(fake, body=PR_TEMPLATE, files=(), head_sha=None):
    pull = fake.add_pull(REPO, NUMBER, body=body, author="Codertocat", **({"head_sha": head_sha} if head_sha else {}))
    fake.add_files(REPO, NUMBER, UNRELATED + list(files))
    for path, _ in files:
        if path == "jobs/enrich.py":
            fake.put_file(REPO, path, ENRICH, ref=pull.head_sha)
    return pull


def reads_at(fake, sha):
    return [c.path for c in fake.calls if c.route == CONTENTS and c.query.get("ref") == sha]


def labeled(name):
    return {**payload("pull_request/labeled.payload.json"), "label": {"name": name}}


def test_a_blank_template_without_claude_code_stays_silent(github, action):
    pull = open_pr(github)
    result = action()
    assert result.outputs["verdict"] == "not-applicable"
    assert github.comments(REPO, NUMBER) == [] and pull.labels == []
    assert reads_at(github, pull.head_sha) == []  # nothing mentions Claude: no file is read


def test_a_read_only_token_keeps_the_line_links_in_the_summary(github, action):
    github.add_token("read-only", write=False)
    pull = open_pr(github, files=[("jobs/enrich.py", ADDS_THE_JOB)])
    result = action(GITHUB_TOKEN="read-only")
    assert github.comments(REPO, NUMBER) == [] and "pull_request_target" in result.summary
    assert f"(https://github.com/{REPO}/blob/{pull.head_sha}/jobs/enrich.py#L8)" in result.summary


def test_a_changed_job_with_a_loop_gets_a_comment_citing_the_line(github, action):
    pull = open_pr(github, files=[("jobs/enrich.py", ADDS_THE_JOB)])
    result = action()
    assert result.outputs["verdict"] == "needs-answers" and pull.labels == ["batch/needs-answers"]
    (comment,) = comments_by(github, ACTIONS_LOGIN)
    body = comment["body"]
    link = f"[`jobs/enrich.py:8`](https://github.com/{REPO}/blob/{pull.head_sha}/jobs/enrich.py#L8)"
    assert "**Why we think this is a Claude workload**" in body
    assert f"- {link} calls `messages.create` inside a loop over `rows`; in an offline-job folder (`jobs/`)\n" in body
    assert f"**{link} {CTA}" in body
    assert reads_at(github, pull.head_sha) == [f"/repos/{REPO}/contents/jobs/enrich.py"]
    assert read_state(body)["scan"]["sha"] == pull.head_sha and body.startswith(COMMENT_MARKER)

    document = json.loads(result.outputs["answers"])
    jsonschema.validate(document, load_schema("review.schema.json"))
    (workload,) = document["workloads"]
    assert [(h["source"], h["path"], h["line"], h["new"]) for h in workload["hints"]] == [("diff", "jobs/enrich.py", 8, True)]
    assert all(a["value"] is None and a["source"] is None for a in workload["answers"].values())  # hints never answer
    assert "jobs/enrich.py:8" in result.summary and STATE_MARKER not in result.summary


def test_a_label_change_on_the_same_head_sha_does_not_read_the_files_again(github, action):
    pull = open_pr(github, files=[("jobs/enrich.py", ADDS_THE_JOB)])
    action()
    github.calls.clear()
    github.apply_label(REPO, NUMBER, "batch/no-human-waiting", by="a-reviewer")
    result = action("pull_request", labeled("batch/no-human-waiting"))
    assert reads_at(github, pull.head_sha) == []
    (comment,) = comments_by(github, ACTIONS_LOGIN)
    assert "jobs/enrich.py#L8" in comment["body"] and "reviewer label batch/no-human-waiting" in comment["body"]
    assert result.outputs["verdict"] == "needs-answers"

    pull.head_sha = "f" * 40  # a new push: a new scan
    github.put_file(REPO, "jobs/enrich.py", ENRICH, ref=pull.head_sha)
    action("pull_request", payload("pull_request/synchronize.payload.json"))
    assert reads_at(github, pull.head_sha) == [f"/repos/{REPO}/contents/jobs/enrich.py"]


def test_a_prompt_tweak_next_to_an_existing_call_stays_silent(github, action):
    pull = open_pr(github, files=[("jobs/enrich.py", TWEAKS_THE_PROMPT)])
    assert action().outputs["verdict"] == "not-applicable"
    assert github.comments(REPO, NUMBER) == [] and pull.labels == []
    assert reads_at(github, pull.head_sha)  # read, found only lines next to the call


def test_checklist_only_ignores_the_diff(github, action):
    github.put_file(REPO, ".github/batch-review.yml", "trigger: checklist-only\n")
    pull = open_pr(github, files=[("jobs/enrich.py", ADDS_THE_JOB)])
    assert action().outputs["verdict"] == "not-applicable"
    assert github.comments(REPO, NUMBER) == [] and reads_at(github, pull.head_sha) == []


def test_already_batched_code_is_said_so_and_alone_is_no_workload(github, action):
    submit = "from bot.helper import run_batch\n\nrun_batch(rows, build_params, job='nightly')\n"
    pull = open_pr(github, files=[("jobs/submit.py", "@@ -0,0 +1,3 @@\n+" + submit.rstrip("\n").replace("\n", "\n+"))])
    github.put_file(REPO, "jobs/submit.py", submit, ref=pull.head_sha)
    assert action().outputs["verdict"] == "not-applicable" and github.comments(REPO, NUMBER) == []
    pull.body = CANDIDATE
    action("pull_request", {**payload("pull_request/opened.payload.json"), "action": "edited"})
    (comment,) = comments_by(github, ACTIONS_LOGIN)
    assert ("calls `run_batch`: already on the batch path, it goes through the shared `run_batch` helper"
            in comment["body"])


class Scans(dict):
    """A scan cache in memory, by head SHA and settings."""

    def get(self, pr, settings):
        return dict.get(self, (pr.head_sha, repr(settings)))

    def put(self, pr, settings, value):
        self[pr.head_sha, repr(settings)] = value


def test_the_apps_scan_cache_is_used_when_there_is_no_comment(github):
    github.put_file(REPO, ".github/batch-review.yml", "comment_on: []\n")  # labels only: no comment to remember in
    pull = open_pr(github, files=[("jobs/enrich.py", ADDS_THE_JOB)])
    gh, cache = GitHub(TOKEN, base_url=github.base_url, pacing=NO_WAITS), Scans()
    first = run(gh, REPO, NUMBER, identity=ACTIONS_LOGIN, scan_cache=cache)
    assert first.plan.review.verdict.value == "needs-answers" and github.comments(REPO, NUMBER) == []
    ((_, cached),) = cache.items()
    assert cached["sha"] == pull.head_sha and len(reads_at(github, pull.head_sha)) == 1
    run(gh, REPO, NUMBER, identity=ACTIONS_LOGIN, scan_cache=cache)
    assert len(reads_at(github, pull.head_sha)) == 1


# --- The plan, pure -------------------------------------------------------------------------------

JOB_SCAN = scan([FileChange("jobs/enrich.py", ENRICH, ALL)])


def snapshot(**fields):
    fields.setdefault("body", PR_TEMPLATE)
    return PullRequest(repo="o/r", number=1, head_sha="a" * 40, **fields)


def test_links_use_the_repositorys_web_address_on_github_enterprise_server():
    planned = plan(snapshot(html_url="https://ghe.example.com/o/r"), diff=JOB_SCAN, identity="bot")
    assert f"(https://ghe.example.com/o/r/blob/{'a' * 40}/jobs/enrich.py#L8)" in planned.comment_body
    assert "`jobs/enrich.py:8` calls" in plan(snapshot(), diff=JOB_SCAN, identity="bot").comment_body  # no URL: no link
    assert "waiting on the result?* *Is the volume" in planned.comment_body  # the open questions stay apart


def test_the_scan_is_remembered_in_our_comment_and_read_back():
    planned = plan(snapshot(), diff=JOB_SCAN, identity="bot")
    ours = snapshot(comments=(Comment(1, "bot", planned.comment_body),))
    assert remembered_scan(ours, "bot") == JOB_SCAN
    assert remembered_scan(ours, "someone-else") is None  # a human quoting our comment is not our memory
    assert remembered_scan(PullRequest("o/r", 1, "b" * 40, comments=ours.comments), "bot") is None  # another SHA
    again = plan(ours, diff=JOB_SCAN, identity="bot")
    assert again.comment_body is None  # nothing changed: no write


def test_the_hidden_state_cannot_close_its_html_comment():
    state = {"scan": {"path": "a--> <!-- b", "note": "--!>---"}}
    block = hidden_state(state)
    assert block.startswith(STATE_MARKER) and block.endswith(" -->") and block[4:-3].count("--") == 0
    assert read_state(f"text\n{block}\nmore") == state
    for body in ("", "no state", f"{STATE_MARKER}not json -->", f"{STATE_MARKER}[1] -->", f"{STATE_MARKER}{{"):
        assert read_state(body) == {}


def test_descriptions_render_their_code_as_code_and_the_rest_escaped():
    assert with_code("inside a loop over `rows` *now* <b>") == "inside a loop over `rows` \\*now\\* &lt;b&gt;"
    assert with_code("`a` and `b`") == "`a` and `b`" and with_code("") == ""


def test_a_capped_scan_says_it_is_partial_and_design_doc_workloads_carry_no_hints():
    capped = scan([FileChange("jobs/enrich.py", ENRICH, ALL)], partial=True)
    planned = plan(snapshot(), diff=capped, identity="bot")
    assert "Only the first 50 changed files that mention Claude were read" in planned.comment_body
    assert to_cache(capped, "a" * 40)["partial"] is True
    doc = ("docs/design/x.md", CANDIDATE)
    review = plan(snapshot(body=CANDIDATE, docs=(doc,)), diff=JOB_SCAN, identity="bot").review
    assert [len(w.hints) for w in review.workloads] == [1, 0]


def test_a_pr_without_files_that_mention_claude_reads_nothing():
    read = []

    class Reader:
        def read_text(self, repo, path, ref=None):
            read.append(path)

    from bot.core.config import DEFAULT
    from bot.review import scan_diff

    found = scan_diff(Reader(), snapshot(files=(ChangedFile("src/a.py", "modified", "@@ -1 +1 @@\n+x"),)), DEFAULT)
    assert found.calls == () and read == []


SWEEP = "import anthropic\nclient = anthropic.Anthropic()\nfor t in [0.0, 1.0]:\n    client.messages.create(max_tokens=5, messages=[])\n"


def test_the_comment_says_why_a_loop_was_set_aside_only_when_asked():
    diff = scan([FileChange("jobs/enrich.py", ENRICH, ALL), FileChange("demo.py", SWEEP, ALL)])
    reason = "holds 2 literal values: a parameter sweep, not a dataset"
    assert reason not in plan(snapshot(), diff=diff, identity="bot").comment_body.split(STATE_MARKER)[0]
    asked = from_mapping({"scan": {"show_dismissed": True}})
    planned = plan(snapshot(), asked, diff=diff, identity="bot")
    assert f"; set aside: `[0.0, 1.0]` {reason}" in planned.comment_body
    ours = snapshot(comments=(Comment(1, "bot", planned.comment_body),))
    assert remembered_scan(ours, "bot") == diff  # the reasons survive a label change


SLOPPY = (CORPUS / "batches" / "sloppy_batch.py").read_text()


def test_batch_code_the_pr_changes_gets_a_batch_hygiene_section_even_with_no_workload():
    diff = scan([FileChange("jobs/classify.py", SLOPPY, frozenset({11}))])
    planned = plan(snapshot(), diff=diff, identity="bot")
    assert planned.review.verdict.value == "not-applicable" and planned.comment_body
    assert "### Batch hygiene" in planned.comment_body
    assert "- `jobs/classify.py:11` `poll-without-sleep`: this loop polls `batches.retrieve` without sleeping" \
        in planned.comment_body
    assert "no-split" not in planned.comment_body  # its line is not changed by this PR
    assert remembered_scan(snapshot(comments=(Comment(1, "bot", planned.comment_body),)), "bot").hygiene == \
        diff.hygiene[2:3]
    untouched = scan([FileChange("jobs/classify.py", SLOPPY, frozenset({30}))])
    assert plan(snapshot(), diff=untouched, identity="bot").comment_body is None
