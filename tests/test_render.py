"""The comment: content per verdict, escaping of PR text, the flowchart, the size limit, templates."""

import re
from dataclasses import replace

import pytest

from bot.core.commands import Disagreement, Exemption
from bot.core.config import from_mapping, resolve
from bot.core.names import COMMENT_MARKER, EXEMPTION_NOTES, HEADLINES, LABEL_FOR_ANSWER, QUESTIONS, Verdict
from bot.core.render import MAX_COMMENT, code, escape, fill, read_state, render_checklist, render_comment
from bot.core.workload import Label, assess
from bot.scan.cache import to_cache
from bot.scan.model import Call, ScanResult, Signal
from tests.checklists import CANDIDATE, DOC_TEMPLATE, PARTIAL, PR_TEMPLATE, SYNCHRONOUS, filled


def mermaid(text):
    return re.search(r"```mermaid\n(.*?)```", text, re.S).group(1)


def test_candidate_comment():
    text = render_comment(assess(CANDIDATE))
    assert text.startswith(COMMENT_MARKER + "\n")
    assert HEADLINES[Verdict.BATCH_CANDIDATE] in text.splitlines()[1]
    for question in QUESTIONS.values():
        assert f"| {question} |" in text
    assert "from bot.helper import run_batch" in text
    assert "handbook/README.md#the-norm" in text and "handbook/helper.md" in text
    chart = mermaid(text)
    assert "class start,q1,q2,q3,batch taken" in chart and "linkStyle 0,2,4,6 " in chart


def test_synchronous_comment_says_why():
    text = render_comment(assess(SYNCHRONOUS))
    assert "Synchronous calls are right here: someone is waiting." in text
    assert "class start,q1,s1 taken" in mermaid(text) and "linkStyle 0,1 " in mermaid(text)
    assert "from bot.helper import run_batch" not in text


def test_needs_answers_comment_says_how_to_answer():
    text = render_comment(assess(PARTIAL))
    for question in ("volume", "latency"):
        assert QUESTIONS[question] in text.split("| Question")[0]
        assert f"`{LABEL_FOR_ANSWER[(question, 'yes')]}` or `{LABEL_FOR_ANSWER[(question, 'no')]}`" in text
    assert f"`{LABEL_FOR_ANSWER[('human_waiting', 'yes')]}`" not in text
    chart = mermaid(text)
    assert "class start,q1 taken" in chart and "class q2 unknown" in chart


def test_label_source_names_who_applied_it():
    text = render_comment(assess(PARTIAL, labels=[Label("batch/can-wait", "octocat")]))
    assert "| reviewer label batch/can-wait (applied by octocat) |" in text


def test_summary_has_no_marker():
    assert COMMENT_MARKER not in render_comment(assess(CANDIDATE), summary=True)


def test_not_applicable_says_no_longer_only_after_an_earlier_comment():
    text = render_comment(assess(PR_TEMPLATE), earlier=True)
    assert HEADLINES[Verdict.NOT_APPLICABLE] in text and "no longer carries a Claude workload" in text
    assert "no longer" not in render_comment(assess(PR_TEMPLATE))
    assert "carries no Claude workload" in render_comment(assess(PR_TEMPLATE))


def test_config_problems_are_shown():
    files = {"acme/api:.github/batch-review.yml": "volume_threshold: lots\n\ndrafts: x\ncolour: blue\n"}
    _, problems, _ = resolve(lambda repo, path: files.get(f"{repo}:{path}"), "acme/api")
    text = render_comment(assess(CANDIDATE, problems=problems))
    assert text.count("> [!WARNING]") == 1 and "default settings" in text
    assert [line for line in text.splitlines() if line.startswith("> - ")] == [
        "> - " + escape(problem) for problem in problems]
    assert "line 1" in problems[1] and "line 3" in problems[2] and "line 4" in problems[3]


def test_a_config_value_over_64_kb_leaves_the_comment_within_githubs_limit():
    files = {"acme/api:.github/batch-review.yml": "links: {helper: https://x/" + "a" * 66_000 + "}\n"}
    config, problems, _ = resolve(lambda repo, path: files.get(f"{repo}:{path}"), "acme/api")
    text = render_comment(assess(CANDIDATE, problems=problems), config)
    assert len(text) < MAX_COMMENT and "links.helper" in text


def test_the_hidden_state_is_bounded_so_the_comment_always_fits():
    loops = tuple(Signal("loop", f"inside a loop over `items_{n}`", n) for n in range(20_000))
    calls = tuple(Call(f"src/job_{n}.js", 20_001, "messages.create", loops[:400] if n else loops, changed=True)
                  for n in range(60))
    state = {"scan": to_cache(ScanResult(calls), "abc"), "inference": {"tokens": 1234, "answers": {"k": "x" * 40_000}},
             "pr": {"sha": "abc", "docs": [f"docs/design/{n:05}-{'x' * 80}.md" for n in range(3_000)]}}
    text = render_comment(assess(CANDIDATE), state=state)
    assert len(text) < MAX_COMMENT
    assert read_state(text) == {"inference": {"tokens": 1234}}  # the tokens spent on the PR are kept
    small = {"scan": to_cache(ScanResult(calls[1:2]), "abc"), "inference": {"tokens": 5, "answers": {"k": "v"}},
             "pr": {"sha": "abc", "docs": ["docs/design/a.md"]}}
    assert read_state(render_comment(assess(CANDIDATE), state=small)) == small


def test_configured_links_are_used():
    config = from_mapping({"links": {"handbook": "https://wiki.example/batch norm", "helper": "https://x/h"}})
    text = render_comment(assess(CANDIDATE, config=config), config)
    assert "(https://wiki.example/batch%20norm)" in text and "(https://x/h)" in text


HOSTILE = "@octocat <img src=x onerror=alert(1)> | col | [click](javascript:alert(1)) `code` **bold** &amp; #1"


def test_text_from_the_pr_is_escaped():
    body = filled(volume_text=HOSTILE[:70])
    docs = [("docs/design/@team|<b>.md", filled(DOC_TEMPLATE, human_waiting="no"))]
    text = render_comment(assess(body, docs, labels=[Label("batch/can-wait", "evil<script>")]))
    text = re.sub(r"(`+).*?\1", "", text)  # code spans show text as it is, inert
    assert "@octocat" not in text and "@\u200boctocat" in text
    assert "<img" not in text and "<script>" not in text and "<b>" not in text
    assert "[click](javascript" not in text
    for row in (line for line in text.splitlines() if line.startswith("| ")):
        assert len(re.findall(r"(?<!\\)\|", row)) == 4  # no extra cells


@pytest.mark.parametrize("value", ["a`b", "`start", "end`", "``x``", "@here"])
def test_code_spans_cannot_be_broken_out_of(value):
    span = code(value)
    fence = re.match(r"`+", span).group(0)
    assert span.endswith(fence) and fence not in span[len(fence):-len(fence)].strip()


def test_escape_is_one_line():
    assert "\n" not in escape("a\n\n## heading\n- [x] b")


def test_huge_inputs_stay_under_githubs_limit():
    docs = [(f"docs/design/{'x' * 200}-{i}.md", filled(DOC_TEMPLATE, human_waiting="no", volume_text="lots " * 20))
            for i in range(3000)]
    text = render_comment(assess(PARTIAL + "\n" + "y" * 1_000_000, docs))
    assert len(text) < MAX_COMMENT
    assert "more workloads are not shown" in text


def test_checklist_templates_are_rendered_from_the_names():
    """templates/*.md are generated from names.py; regenerate with render_checklist when this fails."""
    assert PR_TEMPLATE == render_checklist("pull-request")
    assert DOC_TEMPLATE == render_checklist("design-doc")
    for question in QUESTIONS.values():
        assert question in PR_TEMPLATE and question in DOC_TEMPLATE


def test_our_sentences_keep_their_code_spans_and_pr_text_in_them_stays_inert():
    """An exemption's reason and a `wrong` reason are PR text inside our own sentences (names.py)."""
    exemption = Exemption("carol", "launch @week `x` <b>", "2027-03-31")
    said = Disagreement("mallory", "runs behind *chat*")
    text = render_comment(replace(assess(CANDIDATE, []), exemption=exemption, disagreements=(said,)))
    assert fill(EXEMPTION_NOTES["active"], by="carol", until="2027-03-31", reason=exemption.reason) in text
    assert "`fail_on` does not fail it" in text and "\\`fail" not in text
    assert "@\u200bweek" in text and "<b>" not in text and "\\*chat\\*" in text
