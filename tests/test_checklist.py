"""The checklist parser: markers, Markdown's corners, volumes, real templates, arbitrary text."""

from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.checklist import parse, parse_volume
from bot.core.names import CHECKLIST_MARKER, VOLUME_MARKER, option_marker
from tests.checklists import PR_TEMPLATE, filled
from tests.conftest import FIXTURES


def line(question, value, prefix="- [x]"):
    return f"{prefix} anything at all {option_marker(question, value)}"


def test_untouched_template_is_present_but_not_answered():
    found = parse(PR_TEMPLATE)
    assert found.has_section and not found.answered
    assert found.answers == {} and found.per_day is None and found.conflicts == ()


@pytest.mark.parametrize("question", ["human_waiting", "volume", "latency"])
@pytest.mark.parametrize("value", ["yes", "no"])
def test_each_option_of_the_template(question, value):
    found = parse(filled(**{question: value}))
    assert found.answered and found.answers == {question: value}


def test_whole_template_filled_in():
    found = parse(filled(volume_text="~2,000/day", human_waiting="no", volume="yes", latency="no"))
    assert found.answers == {"human_waiting": "no", "volume": "yes", "latency": "no"}
    assert found.per_day == 2000


@pytest.mark.parametrize("prefix", ["- [x]", "- [X]", "* [x]", "+ [x]", "  - [x]", "- parent\n    - [x]", "- parent\n\t- [x]",
                                    "1. [x]", "2) [X]"])
def test_ticked_box_forms_count(prefix):
    assert parse(line("latency", "no", prefix)).answers == {"latency": "no"}


@pytest.mark.parametrize("prefix", ["- [ ]", "-[x]", "- [x", "[x]", "- (x)", "x", "- [y]", "- [x] parent\n  - [ ]"])
def test_unticked_or_malformed_boxes_do_not(prefix):
    assert parse(line("latency", "no", prefix)).answers == {}


def test_crlf_and_cr_line_endings():
    text = "\r\n".join([CHECKLIST_MARKER, line("human_waiting", "no"), line("volume", "yes"), f"- Volume: 2k {VOLUME_MARKER}"])
    found = parse(text)
    assert found.answers == {"human_waiting": "no", "volume": "yes"} and found.per_day == 2000
    assert parse(text.replace("\r\n", "\r")).answers == found.answers


@pytest.mark.parametrize("fence", ["```", "~~~", "````", "```markdown", "   ```"])
def test_boxes_in_fenced_code_do_not_count(fence):
    closing = fence.strip().removesuffix("markdown")
    text = "\n".join([fence, line("human_waiting", "yes"), closing, line("latency", "no")])
    assert parse(text).answers == {"latency": "no"}


def test_unclosed_fence_hides_the_rest():
    assert parse("```\n" + line("latency", "no")).answers == {}


def test_shorter_closing_fence_does_not_close():
    text = "\n".join(["````", "```", line("latency", "no"), "````", line("volume", "yes")])
    assert parse(text).answers == {"volume": "yes"}


@pytest.mark.parametrize("quoted", ["> - [x] x {m}", ">- [x] x {m}", "  > - [x] x {m}", "> > - [x] x {m}"])
def test_boxes_in_quotes_do_not_count(quoted):
    assert parse(quoted.format(m=option_marker("latency", "no"))).answers == {}


def test_markers_in_inline_code_do_not_count():
    text = f"- [x] see `{option_marker('latency', 'no')}` for the syntax"
    assert parse(text).answers == {}
    assert parse(f"`- [x] {option_marker('latency', 'no')}`").answers == {}


CODE = option_marker("human_waiting", "no")


@pytest.mark.parametrize("text", [
    f"Intro\n\n    - [x] No {CODE}\n",  # an indented code block
    f"    - [x] No {CODE}\n",
    f"\t- [x] No {CODE}\n",
    f"- item\n\n    ```\n    - [x] No {CODE}\n    ```\n",  # a fence indented 4 spaces inside a list item
    f"```\n        ```\n- [x] No {CODE}\n",  # a line indented 8 spaces does not close a fence
    f"<pre>\n- [x] No {CODE}\n</pre>\n",
    f"- [x] No ``{CODE} ``\n",  # a double-backtick code span
])
def test_what_github_shows_as_code_does_not_count(text):
    assert parse(text).answers == {}


def test_a_backtick_in_an_opening_fences_info_is_a_paragraph_and_hides_nothing():
    assert parse(f"```a`b`\n- [x] No {CODE}\n").answers == {"human_waiting": "no"}


def test_volume_and_section_markers_in_code_do_not_count():
    text = f"<pre>\n{CHECKLIST_MARKER}\n- Volume: 2k {VOLUME_MARKER}\n</pre>\n\n    - Volume: 5k {VOLUME_MARKER}\n"
    found = parse(text)
    assert not found.has_section and found.volume_text is None


def test_a_marker_inside_another_html_comment_is_hidden():
    assert parse(f"- [x] No <!-- old: {CODE}\n").answers == {}
    assert parse(f"<!-- note\n\n- [x] No {CODE}\n\nmore -->\n").answers == {}


def test_the_text_after_the_last_marker_still_counts_when_it_closes_a_code_span():
    assert parse(f"- [x] No `code {CODE}\nstill code`\n").answers == {}
    assert parse(f"- [x] No {CODE}\nplain text\n").answers == {"human_waiting": "no"}


def test_boxes_inside_a_multiline_html_comment_do_not_count():
    text = "\n".join(["<!--", line("human_waiting", "yes"), "-->", line("latency", "no")])
    assert parse(text).answers == {"latency": "no"}


def test_both_options_ticked_is_a_conflict_and_unknown():
    text = "\n".join([line("volume", "yes"), line("volume", "no"), line("latency", "no")])
    found = parse(text)
    assert found.conflicts == ("volume",)
    assert found.answers == {"latency": "no"}
    assert found.answered


def test_marker_spelling_is_tolerant_of_case_and_spaces():
    assert parse("- [x] yes <!--batch-review:  LATENCY = YES-->").answers == {"latency": "yes"}


def test_unknown_markers_are_ignored():
    assert parse("- [x] x <!-- batch-review: mood=yes -->").answers == {}


@pytest.mark.parametrize("written, per_day", [
    ("2,000", 2000), ("2k", 2000), ("2K", 2000), ("~1500/day", 1500), ("50 per hour", 1200),
    ("about 300 a day", 300), ("300", 300), ("1.5M/month", 50000), ("10k per week", 10000 / 7),
    ("200-400/day", 400), ("5 rps", 432000), ("3000 daily", 3000), ("120 requests per minute", 172800),
    ("100+", 100), ("`2,000`", 2000), ("**2,000**", None), ("1,000,000 monthly", 1e6 / 30),
    ("lots", None), ("n/a", None), ("2,000 on Mondays", None), ("a few", None),
])
def test_volume_forms(written, per_day):
    result = parse_volume(written)
    assert result == (None if per_day is None else pytest.approx(per_day, rel=1e-3))


def test_volume_field_value_is_read_wherever_it_is_written():
    assert parse(f"- Expected requests per day: 2k {VOLUME_MARKER}").per_day == 2000
    assert parse(f"- Expected requests per day: {VOLUME_MARKER} 2k").per_day == 2000
    assert parse(f"**Requests a day:** **2,000** {VOLUME_MARKER}").per_day == 2000
    assert parse(f"- Expected requests per day: ___ {VOLUME_MARKER}").volume_text is None


def test_unreadable_volume_is_kept_as_written():
    found = parse(f"- Expected requests per day: loads {VOLUME_MARKER}")
    assert found.answered and found.volume_text == "loads" and found.per_day is None


def test_empty_and_none():
    assert not parse(None).answered and not parse("").answered


REAL_TEMPLATES = sorted((FIXTURES / "pr-templates").glob("*.md"))


def test_the_real_templates_are_there():
    assert len(REAL_TEMPLATES) == 9


@pytest.mark.parametrize("path", REAL_TEMPLATES, ids=lambda p: p.name)
def test_real_pr_templates_hold_no_answers(path: Path):
    text = path.read_text()
    found = parse(text)
    assert not found.answered and not found.has_section
    # Filled in as their authors would (every box ticked), they still say nothing to us.
    assert not parse(text.replace("[ ]", "[x]")).answered


@pytest.mark.parametrize("path", REAL_TEMPLATES, ids=lambda p: p.name)
def test_our_section_appended_to_real_templates(path: Path):
    text = path.read_text() + "\n\n" + filled(human_waiting="yes").replace("\n", "\r\n")
    assert parse(text).answers == {"human_waiting": "yes"}


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_arbitrary_text_never_raises(text):
    found = parse(text)
    assert isinstance(found.answered, bool)
    parse_volume(text)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([
    "- [x] ", "* [X] ", "  + [ ] ", "> ", "```", "~~~", "`", "<!--", "-->", "\r\n", "\n", "\t", "    ", "<pre>", "</pre>",
    option_marker("volume", "yes"), option_marker("volume", "no"), VOLUME_MARKER, CHECKLIST_MARKER, "2k", "x",
])).map("".join))
def test_markdown_shaped_text_never_raises(text):
    found = parse(text)
    assert set(found.answers) <= {"volume"}
    with mock.patch("bot.core.checklist._through_last_marker", lambda text: text):
        assert parse(text) == found  # reading only up to the last marker changes nothing


@pytest.mark.parametrize("unit", [
    "- [x] " + option_marker("latency", "no") + "\n",
    "<!--" * 8 + "`" * 8 + "\n",
    "```\n~~~\n",
    "> - [x] " + option_marker("volume", "yes") + "\n",
    VOLUME_MARKER + " " + "1" * 50 + "\n",
])
def test_megabyte_adversarial_bodies_parse(unit):
    text = unit * (1_000_000 // len(unit))
    assert isinstance(parse(text).answered, bool)
    one_line = unit.strip() * (1_000_000 // len(unit))
    assert isinstance(parse(one_line).answered, bool)


def test_items_of_a_loose_list_count():
    """Boxes apart by blank lines: GitHub still shows them ticked (each item's text in its own paragraph)."""
    text = (f"- [x] Nobody waits {option_marker('human_waiting', 'no')}\r\n\r\n"
            f"- [ ] Somebody waits {option_marker('human_waiting', 'yes')}\r\n\r\n- [x] ")
    assert parse(text).ticked == (("human_waiting", "no"),)
    with mock.patch("bot.core.checklist._through_last_marker", lambda text: text):
        assert parse(text).ticked == (("human_waiting", "no"),)
