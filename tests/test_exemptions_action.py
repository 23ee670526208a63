"""Exemptions belong to the workload, in the Action: a later PR changing the path finds the exemption (or its
lapse) through GitHub's search of the repository's PR comments and our hidden state there."""

import json
from datetime import date, timedelta

import pytest

from bot.clients.github import ACTIONS_LOGIN
from bot.core.names import EXEMPTION_NOTES
from bot.core.render import read_state
from tests.checklists import CANDIDATE
from tests.test_action import NUMBER, REPO, action, command, comments_by, github, pr  # noqa: F401  (fixtures)
from tests.test_scan_review import ADDS_THE_JOB, ENRICH


def pull_changing_the_job(fake, number):
    pull = fake.add_pull(REPO, number, body=CANDIDATE, author="Codertocat")
    fake.add_files(REPO, number, [("jobs/enrich.py", ADDS_THE_JOB)])
    fake.put_file(REPO, "jobs/enrich.py", ENRICH, ref=pull.head_sha)
    return pull


@pytest.mark.parametrize("days, state", [(10, "active"), (-1, "lapsed")])
def test_a_later_pr_changing_the_path_finds_the_exemption_through_githubs_search(github, action, days, state):
    pull_changing_the_job(github, 5)
    until, said = date.today() + timedelta(days=days), date.today() - timedelta(days=5)
    words = f"/batch-review exempt until {until.isoformat()}: launch week"
    github.add_comment(REPO, 5, "carol", words, association="OWNER")["updated_at"] = f"{said.isoformat()}T00:00:00Z"
    event = command(words, "OWNER", "carol")
    event["issue"]["number"] = 5
    action("issue_comment", event)  # PR 5's own review keeps the exemption in its comment's hidden state
    (kept,) = [c for c in github.comments(REPO, 5) if c["user"]["login"] == ACTIONS_LOGIN]
    assert read_state(kept["body"])["exempt"]["paths"] == ["jobs/enrich.py"]

    pull_changing_the_job(github, NUMBER)
    github.calls.clear()
    run = action()
    document = json.loads(run.outputs["answers"])
    searches = [c.query["q"] for c in github.calls if c.route == "/search/issues"]
    assert searches == [f'repo:{REPO} is:pr in:comments "batch-review exempt"']
    (sticky,) = comments_by(github, ACTIONS_LOGIN)
    assert "It was given on \\#5 for a workload this pull request changes: `jobs/enrich.py`." in sticky["body"]
    if state == "active":
        assert document["exemption"]["pull_request"] == 5 and document["exemption"]["by"] == "carol"
        assert github.repos[REPO].pulls[NUMBER].labels == ["batch/exempt"]
    else:
        assert document["exemption"] is None and github.repos[REPO].pulls[NUMBER].labels == ["batch/candidate"]
        assert EXEMPTION_NOTES["lapsed"].format(by="carol", until=until.isoformat()) in sticky["body"]
    assert "exempt" not in read_state(sticky["body"])  # inherited, not given here


def test_a_refused_search_leaves_the_review_as_it_was(github, action):
    pull_changing_the_job(github, NUMBER)
    github.fail("GET", "/search/issues", 403, message="Resource not accessible by integration")
    run = action()
    assert run.code == 0 and json.loads(run.outputs["answers"])["exemption"] is None
    assert github.repos[REPO].pulls[NUMBER].labels == ["batch/candidate"] and comments_by(github, ACTIONS_LOGIN)


def test_a_pr_without_a_workloads_path_does_not_search(github, action):
    pr(github)  # a checklist alone: no call and no design doc
    action()
    assert not [c for c in github.calls if c.route == "/search/issues"]
