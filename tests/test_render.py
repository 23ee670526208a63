"""The comment: content per verdict, escaping of PR text, the flowchart, the size limit, templates."""

import re

import pytest

from bot.core.config import from_mapping
from bot.core.names import (
    COMMENT_MARKER,
    HEADLINES,
    LABEL_FOR_ANSWER,
    QUESTIONS,
    Verdict,
)
from bot.core.render import MAX_COMMENT, code, escape, render_checklist, render_comment
from bot.core.workload import Label, assess
from tests.checklists import (
    CANDIDATE,
    DOC_TEMPLATE,
    PARTIAL,
    PR_TEMPLATE,
    SYNCHRONOUS,
    filled,
)


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
    text = render_comment(assess(CANDIDATE, problems=["acme/api:.github/batch-review.yml line 3: `drafts: 'x'` is not allowed"]))
    assert "> [!WARNING]" in text and "line 3" in text and "default settings" in text


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
