"""Settings: defaults, validation that names the key, merging, the lookup chain and `_extends`."""

import re
from dataclasses import fields

import pytest

from bot.core.config import (
    DEFAULT,
    Config,
    ConfigError,
    from_mapping,
    merge,
    parse_mapping,
    resolve,
)
from tests.conftest import ROOT


def load(text):
    return from_mapping(parse_mapping(text))


def test_empty_file_is_the_defaults():
    assert load("") == load("# only a comment\n") == DEFAULT == Config()
    assert DEFAULT.volume_threshold == 300
    assert DEFAULT.comment_on == ("batch-candidate", "needs-answers")
    assert DEFAULT.drafts == "label-only" and DEFAULT.trigger == "auto" and DEFAULT.fail_on == ()
    assert DEFAULT.scan.max_files == 50 and DEFAULT.label_answers_from == "anyone"
    assert DEFAULT.design_docs == ("docs/design/**", "rfcs/**", "**/*design*.md")


def test_example_config_documents_every_key_with_its_default():
    text = (ROOT / "templates" / "config.yml").read_text()
    assert load(text) == DEFAULT  # all commented out: installing it changes nothing
    uncommented = "\n".join(re.sub(r"^# ?", "", line) for line in text.splitlines()
                            if line.startswith("# ") and re.match(r"# ( *[a-z_]+:( |$)| +- )", line) and "_extends" not in line)
    assert load(uncommented) == DEFAULT
    for key in [field.name for field in fields(Config)] + ["_extends"]:
        assert f"# {key}:" in text


def test_values_are_read():
    config = load("""
volume_threshold: 1000
links: {handbook: https://wiki/norm}
design_docs: [adr/**]
comment_on: [batch-candidate]
drafts: skip
trigger: checklist-only
fail_on: needs-answers
label_answers_from: reviewers
scan: {max_files: 5}
inference: {enabled: false, model: claude-x, max_tokens: 100, monthly_token_budget: 0, forks: true}
metric: {eligible: [wrkspc_1], prices: {claude-x: {input: 1, output: 5}}}
""")
    assert config.volume_threshold == 1000.0 and config.links.handbook == "https://wiki/norm"
    assert config.links.helper == DEFAULT.links.helper  # mappings merge over the defaults
    assert config.design_docs == ("adr/**",) and config.comment_on == ("batch-candidate",)
    assert config.fail_on == ("needs-answers",) and config.drafts == "skip"
    assert config.scan.max_files == 5 and config.inference.enabled is False and config.inference.forks is True
    assert config.metric.eligible == ("wrkspc_1",) and config.metric.prices["claude-x"]["output"] == 5


@pytest.mark.parametrize("text, names", [
    ("drafts: sometimes", ["drafts", "sometimes", "comment, label-only, skip"]),
    ("trigger: never", ["trigger", "auto, always, checklist-only"]),
    ("fail_on: [red]", ["fail_on", "red", "batch-candidate"]),
    ("fail_on: [not-applicable]", ["fail_on", "not-applicable"]),
    ("volume_threshold: lots", ["volume_threshold", "lots", "a number"]),
    ("volume_threshold: true", ["volume_threshold", "a number"]),
    ("volume_threshold: -5", ["volume_threshold", "negative"]),
    ("scan: {max_files: 2.5}", ["scan.max_files", "whole number"]),
    ("scan: 5", ["scan", "mapping"]),
    ("scan: {depth: 3}", ["scan.depth", "max_files"]),
    ("colour: blue", ["colour", "volume_threshold"]),
    ("design_docs: docs/**", ["design_docs", "list"]),
    ("design_docs: [1, 2]", ["design_docs", "list of strings"]),
    ("inference: {enabled: yes-please}", ["inference.enabled", "true or false"]),
    ("_extends: 5", ["_extends"]),
    ("- a\n- b", ["mapping"]),
    ("drafts: [unclosed", ["not valid YAML", "line 1"]),
    ("a: b\n  c: d\n", ["not valid YAML", "line 2"]),
])
def test_errors_name_the_key_the_value_and_what_is_allowed(text, names):
    with pytest.raises(ConfigError) as error:
        load(text)
    for name in names:
        assert name in str(error.value)


def test_errors_give_the_line_of_the_key():
    with pytest.raises(ConfigError, match=r"line 3: `drafts"):
        load("volume_threshold: 10\n# note\ndrafts: nope\n")


def test_safe_load_refuses_python_objects():
    with pytest.raises(ConfigError):
        load("drafts: !!python/object/apply:os.system ['echo hi']")


def test_merge_mappings_key_by_key_lists_replace():
    base = {"links": {"handbook": "a", "helper": "b"}, "design_docs": ["x/**", "y/**"], "drafts": "skip"}
    assert merge(base, {"links": {"helper": "c"}, "design_docs": ["z/**"]}) == {
        "links": {"handbook": "a", "helper": "c"}, "design_docs": ["z/**"], "drafts": "skip"}


def reader(files):
    """`resolve`'s read(repo, path) over a {"owner/repo:path": text} mapping."""
    return lambda repo, path: files.get(f"{repo}:{path}")


REPO_FILE = "acme/api:.github/batch-review.yml"
ORG_FILE = "acme/.github:.github/batch-review.yml"


def test_lookup_repo_then_org_then_defaults():
    assert resolve(reader({}), "acme/api") == (DEFAULT, [])
    config, problems = resolve(reader({ORG_FILE: "drafts: skip"}), "acme/api")
    assert config.drafts == "skip" and problems == []
    config, _ = resolve(reader({ORG_FILE: "drafts: skip\nvolume_threshold: 5", REPO_FILE: "drafts: comment"}), "acme/api")
    assert (config.drafts, config.volume_threshold) == ("comment", 5)


def test_extends_false_opts_out_of_the_org_default():
    config, _ = resolve(reader({ORG_FILE: "drafts: skip", REPO_FILE: "_extends: false\nvolume_threshold: 5"}), "acme/api")
    assert (config.drafts, config.volume_threshold) == ("label-only", 5)


def test_extends_chain_short_and_long_forms():
    files = {
        REPO_FILE: "_extends: shared-config\ndrafts: comment",
        "acme/shared-config:.github/batch-review.yml": "_extends: platform/policies:bots/batch-review.yml\nvolume_threshold: 50",
        "platform/policies:bots/batch-review.yml": "_extends: false\nvolume_threshold: 9\nfail_on: [needs-answers]",
    }
    config, problems = resolve(reader(files), "acme/api")
    assert problems == []
    assert (config.drafts, config.volume_threshold, config.fail_on) == ("comment", 50, ("needs-answers",))


def test_extends_loop_is_detected_and_defaults_apply():
    files = {REPO_FILE: "_extends: b\ndrafts: skip", "acme/b:.github/batch-review.yml": "_extends: api"}
    config, problems = resolve(reader(files), "acme/api")
    assert config == DEFAULT and "loops" in problems[0] and "acme/api" in problems[0]


def test_extends_to_a_missing_file_is_reported():
    config, problems = resolve(reader({REPO_FILE: "_extends: gone"}), "acme/api")
    assert config == DEFAULT and "acme/gone" in problems[0]


def test_the_org_repo_itself_does_not_extend_itself():
    config, problems = resolve(reader({ORG_FILE: "drafts: skip"}), "acme/.github")
    assert config.drafts == "skip" and problems == []


def test_broken_file_reports_and_falls_back_to_defaults():
    config, problems = resolve(reader({REPO_FILE: "drafts: nope"}), "acme/api")
    assert config == DEFAULT
    assert problems[0].startswith("acme/api:.github/batch-review.yml line 1: `drafts: 'nope'`")


def test_overrides_win_over_files():
    config, _ = resolve(reader({REPO_FILE: "fail_on: [synchronous]"}), "acme/api", {"fail_on": ["needs-answers"]})
    assert config.fail_on == ("needs-answers",)
