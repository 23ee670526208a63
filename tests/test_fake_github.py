"""The fake GitHub API keeps its promises: pagination, the GHES prefix, scripted failures, checked bodies."""

import requests

from tests.fake_github import FakeGitHub

REPO = "octo/service"


def session(token="token"):
    http = requests.Session()
    http.headers["Authorization"] = f"token {token}"
    return http


def test_pagination_follows_githubs_link_header():
    with FakeGitHub() as fake:
        fake.add_token("token")
        fake.add_repo(REPO)
        fake.add_pull(REPO, 1)
        for i in range(25):
            fake.add_comment(REPO, 1, "alice", f"comment {i}")
        url, seen = f"{fake.base_url}/repos/{REPO}/issues/1/comments?per_page=10", []
        while url:
            answer = session().get(url)
            seen += [c["body"] for c in answer.json()]
            url = answer.links.get("next", {}).get("url")
        assert seen == [f"comment {i}" for i in range(25)]
        assert [c.query.get("page", "1") for c in fake.calls] == ["1", "2", "3"]
        assert 'rel="last"' in session().get(f"{fake.base_url}/repos/{REPO}/issues/1/comments?per_page=10").headers["Link"]


def test_pagination_keeps_the_query():
    with FakeGitHub() as fake:
        fake.add_token("token")
        fake.add_repo(REPO)
        for number in range(1, 4):
            fake.add_pull(REPO, number)
            fake.add_comment(REPO, number, "carol", "/batch-review exempt until 2027-03-31: launch")
        fake.add_pull(REPO, 4)  # no such comment: the query leaves it out, on every page
        answer = session().get(f"{fake.base_url}/search/issues",
                               params={"q": f'repo:{REPO} is:pr in:comments "batch-review exempt"', "per_page": 2})
        following = session().get(answer.links["next"]["url"])
        assert len(answer.json()["items"]) == 2 and len(following.json()["items"]) == 1, following.text


def test_the_ghes_prefix_is_required():
    with FakeGitHub(prefix="/api/v3") as fake:
        fake.add_token("token", login="alice")
        assert session().get(f"{fake.base_url}/user").json()["login"] == "alice"
        assert session().get(fake.base_url.removesuffix("/api/v3") + "/user").status_code == 404
        assert fake.problems and "outside the API prefix" in fake.problems[0]


def test_request_bodies_are_checked_against_the_openapi_subset():
    with FakeGitHub() as fake:
        fake.add_token("token")
        fake.add_repo(REPO)
        fake.add_pull(REPO, 1)
        bad = session().post(f"{fake.base_url}/repos/{REPO}/issues/1/comments", json={"text": "hi"})
        assert bad.status_code == 422 and "'body' is a required property" in fake.problems[0]
        good = session().post(f"{fake.base_url}/repos/{REPO}/issues/1/comments", json={"body": "hi"})
        assert good.status_code == 201 and len(fake.problems) == 1
        session().put(f"{fake.base_url}/repos/{REPO}/issues/1/labels", json={"labels": ["x"]})  # replacing the set
        assert "no such route" in fake.problems[1]


def test_query_parameters_are_checked_against_the_openapi_subset():
    with FakeGitHub() as fake:
        fake.add_token("token")
        fake.add_repo(REPO)
        assert session().get(f"{fake.base_url}/repos/{REPO}/pulls?state=all&head=octo:batch-review/setup").ok
        assert session().get(f"{fake.base_url}/repos/{REPO}/pulls?state=merged").status_code == 422
        assert session().get(f"{fake.base_url}/repos/{REPO}/pulls?branch=x").status_code == 422
        assert "state='merged' is not one of" in fake.problems[0] and "'branch' is not in the OpenAPI" in fake.problems[1]


def test_a_branch_files_on_it_and_a_pull_request_from_it():
    with FakeGitHub() as fake:
        fake.add_token("token")
        fake.add_repo(REPO).contents[("main", "docs/a.md")] = "A"
        base = f"{fake.base_url}/repos/{REPO}"
        assert session().get(f"{base}/git/ref/heads/topic/x").status_code == 404
        assert session().post(f"{base}/git/refs", json={"ref": "refs/heads/topic/x", "sha": "a" * 40}).status_code == 201
        assert session().get(f"{base}/git/ref/heads/topic/x").json()["object"]["sha"] == "a" * 40
        assert [e["name"] for e in session().get(f"{base}/contents/docs?ref=topic/x").json()] == ["a.md"]
        sha = session().get(f"{base}/contents/docs/a.md?ref=topic/x").json()["sha"]
        change = {"message": "m", "content": "Qg==", "branch": "topic/x"}
        assert session().put(f"{base}/contents/docs/a.md", json=change).status_code == 422  # no sha: refused
        assert session().put(f"{base}/contents/docs/a.md", json={**change, "sha": sha}).status_code == 200
        assert fake.repos[REPO].contents == {("main", "docs/a.md"): "A", ("topic/x", "docs/a.md"): "B"}
        opened = session().post(f"{base}/pulls", json={"title": "t", "head": "topic/x", "base": "main", "body": "b"})
        assert opened.status_code == 201 and opened.json()["head"]["ref"] == "topic/x"
        again = session().post(f"{base}/pulls", json={"title": "t", "head": "topic/x", "base": "main"})
        assert again.status_code == 422 and not fake.problems


def test_scripted_failures_come_first_then_normal_answers():
    with FakeGitHub() as fake:
        fake.add_token("token", login="alice")
        fake.fail("GET", "/user", 502, times=2)
        statuses = [session().get(f"{fake.base_url}/user").status_code for _ in range(3)]
        assert statuses == [502, 502, 200]
        assert session("unknown").get(f"{fake.base_url}/user").status_code == 401


def test_a_read_only_token_cannot_write_and_the_actions_token_has_no_user():
    with FakeGitHub() as fake:
        fake.add_token("read-only", write=False)
        fake.add_repo(REPO)
        fake.add_pull(REPO, 1)
        assert session("read-only").get(f"{fake.base_url}/user").status_code == 403
        answer = session("read-only").post(f"{fake.base_url}/repos/{REPO}/issues/1/comments", json={"body": "x"})
        assert answer.status_code == 403 and fake.comments(REPO, 1) == []


def test_applying_a_missing_label_creates_it_grey_as_github_does():
    with FakeGitHub() as fake:
        fake.add_token("token")
        fake.add_repo(REPO)
        fake.add_pull(REPO, 1)
        session().post(f"{fake.base_url}/repos/{REPO}/issues/1/labels", json=["batch/candidate"])
        assert fake.repos[REPO].labels["batch/candidate"] == {"color": "ededed", "description": None}
        assert fake.repos[REPO].events[1][-1]["actor"]["login"] == "github-actions[bot]"
