"""Settings: defaults, validation that names the key, merging, the lookup chain and `_extends`."""

import re
from dataclasses import fields

import pytest

from bot.core.config import (
    DEFAULT,
    DEFAULTS_USED,
    MAX_PROBLEMS,
    Config,
    ConfigError,
    from_mapping,
    load as load_file,
    merge,
    organisation,
    parse_mapping,
    resolve,
    serves,
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


def test_a_nested_keys_error_gives_its_own_line():
    with pytest.raises(ConfigError, match=r"line 3: `scan.max_files"):
        load("scan:\n  # how many\n  max_files: many\n")
    with pytest.raises(ConfigError, match=r"line 4: `metric.prices"):
        load("metric:\n  eligible: []\n\n  prices: {x: 1}\n")


def test_every_problem_of_a_file_is_reported_at_once_with_its_line():
    loaded = load_file("volume_threshold: lots\ncolour: blue\nfail_on: [red]\nscan: {depth: 3, max_files: -1}\n")
    assert [error.split(":")[0] for error in loaded.errors] == [
        ".github/batch-review.yml line 1", ".github/batch-review.yml line 3", ".github/batch-review.yml line 4"]
    assert "scan.max_files" in loaded.errors[2]
    assert len(loaded.warnings) == 2 and "line 2: `colour` is not a batch-review setting" in loaded.warnings[0]
    assert "line 4: `scan.depth`" in loaded.warnings[1]
    with pytest.raises(ConfigError) as error:
        load("volume_threshold: lots\ncolour: blue\nfail_on: [red]\n")
    assert "volume_threshold" in str(error.value) and "fail_on" in str(error.value)


@pytest.mark.parametrize("text, name", [("colour: blue", "colour"), ("scan: {depth: 3}", "scan.depth"),
                                        ("newer_section: {model: claude-x}", "newer_section"),
                                        ("metric: {dashboards: 1}", "metric.dashboards")])
def test_unknown_keys_are_warnings_that_leave_the_rest_in_force(text, name):
    loaded = load_file(text + "\ndrafts: skip\n")
    assert loaded.errors == () and f"line 1: `{name}` is not a batch-review setting" in loaded.warnings[0]
    assert from_mapping(loaded.raw).drafts == "skip"
    config, problems, defaults_used = resolve(reader({REPO_FILE: text + "\ndrafts: skip"}), "acme/api")
    assert config.drafts == "skip" and not defaults_used and f"`{name}`" in problems[0]


def test_problems_are_capped_with_a_count_of_the_rest():
    text = "".join(f"unknown_{n}: 1\n" for n in range(30)) + "drafts: nope\n"
    config, problems, defaults_used = resolve(reader({REPO_FILE: text}), "acme/api")
    assert defaults_used and problems[0] == DEFAULTS_USED and "`drafts: 'nope'`" in problems[1]  # errors first
    assert len(problems) == 1 + MAX_PROBLEMS + 1 and problems[-1] == "…and 11 more."
    assert str(ConfigError(*[f"p{n}" for n in range(25)])).splitlines()[-1] == "…and 5 more."


def test_an_alias_bomb_is_refused_before_it_expands():
    bomb = "design_docs: [" + ", ".join(["&l0 [x,x,x,x,x,x,x,x,x]"] + [
        f"&l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 9)]) + "]"
    assert len(bomb) < 400
    loaded = load_file(bomb)
    assert loaded.errors == (".github/batch-review.yml line 1: the alias `*l0` is not allowed; write the value out.",)
    assert resolve(reader({REPO_FILE: bomb}), "acme/api").config == DEFAULT


def test_messages_show_at_most_200_characters_of_a_value():
    with pytest.raises(ConfigError) as error:
        load("drafts: " + "x" * 900)
    assert len(str(error.value)) < 400 and "x" * 198 + "…" in str(error.value)


def test_a_file_over_256_kb_is_refused():
    loaded = load_file("# padding\n" * 30_000)
    assert loaded.errors == (".github/batch-review.yml holds 300,000 bytes; a config file may hold at most 262,144.",)


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", ".NaN"])
def test_nan_and_infinities_are_refused(value):
    with pytest.raises(ConfigError, match="finite"):
        load(f"volume_threshold: {value}")
    with pytest.raises(ConfigError, match="metric.prices"):
        load(f"metric: {{prices: {{claude-x: {{input: {value}, output: 1}}}}}}")


@pytest.mark.parametrize("text", ["[" * 10_000 + "]" * 10_000, "a:\n" + "".join(" " * n + "b:\n" for n in range(1, 400))])
def test_deep_nesting_is_a_clear_error(text):
    (error,) = load_file(text).errors
    assert "nest at most 20 levels deep" in error


def test_a_string_over_1000_characters_is_refused_and_never_reaches_the_comment():
    config, problems, defaults_used = resolve(reader({REPO_FILE: "links: {handbook: https://x/" + "a" * 70_000 + "}"}), "acme/api")
    assert defaults_used and config == DEFAULT
    assert "`links.handbook` holds a text of 70,010 characters; at most 1,000" in problems[1]


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
    assert resolve(reader({}), "acme/api") == (DEFAULT, (), False)
    config, problems, _ = resolve(reader({ORG_FILE: "drafts: skip"}), "acme/api")
    assert config.drafts == "skip" and problems == ()
    config = resolve(reader({ORG_FILE: "drafts: skip\nvolume_threshold: 5", REPO_FILE: "drafts: comment"}), "acme/api").config
    assert (config.drafts, config.volume_threshold) == ("comment", 5)


def test_extends_false_opts_out_of_the_org_default():
    config = resolve(reader({ORG_FILE: "drafts: skip", REPO_FILE: "_extends: false\nvolume_threshold: 5"}), "acme/api").config
    assert (config.drafts, config.volume_threshold) == ("label-only", 5)


def test_extends_chain_short_and_long_forms():
    files = {
        REPO_FILE: "_extends: shared-config\ndrafts: comment",
        "acme/shared-config:.github/batch-review.yml": "_extends: platform/policies:bots/batch-review.yml\nvolume_threshold: 50",
        "platform/policies:bots/batch-review.yml": "_extends: false\nvolume_threshold: 9\nfail_on: [needs-answers]",
    }
    config, problems, _ = resolve(reader(files), "acme/api")
    assert problems == ()
    assert (config.drafts, config.volume_threshold, config.fail_on) == ("comment", 50, ("needs-answers",))


def test_extends_loop_is_detected_and_defaults_apply():
    files = {REPO_FILE: "_extends: b\ndrafts: skip", "acme/b:.github/batch-review.yml": "_extends: api"}
    config, problems, _ = resolve(reader(files), "acme/api")
    assert config == DEFAULT and "loops" in problems[1] and "acme/api" in problems[1]


def test_extends_follows_at_most_five_files():
    files = {REPO_FILE: "_extends: c1"} | {f"acme/c{n}:.github/batch-review.yml": f"_extends: c{n + 1}" for n in range(1, 200)}
    reads = []
    config, problems, defaults_used = resolve(lambda repo, path: reads.append(repo) or reader(files)(repo, path), "acme/api")
    assert defaults_used and len(reads) == 6
    assert "`_extends` follows at most 5 files: acme/api:.github/batch-review.yml -> acme/c1:" in problems[1]
    assert "acme/c6:.github/batch-review.yml." in problems[1]
    files["acme/c5:.github/batch-review.yml"] = "drafts: skip"
    assert resolve(reader(files), "acme/api").config.drafts == "skip"


def test_extends_to_a_missing_file_is_reported():
    config, problems, _ = resolve(reader({REPO_FILE: "_extends: gone"}), "acme/api")
    assert config == DEFAULT and "acme/gone" in problems[1]


def test_the_org_repo_itself_does_not_extend_itself():
    config, problems, _ = resolve(reader({ORG_FILE: "drafts: skip"}), "acme/.github")
    assert config.drafts == "skip" and problems == ()


def test_broken_file_reports_and_falls_back_to_defaults():
    config, problems, defaults_used = resolve(reader({REPO_FILE: "drafts: nope"}), "acme/api")
    assert config == DEFAULT and defaults_used
    assert problems[0] == DEFAULTS_USED
    assert problems[1].startswith("acme/api:.github/batch-review.yml line 1: `drafts: 'nope'`")


def test_overrides_win_over_files():
    config = resolve(reader({REPO_FILE: "fail_on: [synchronous]"}), "acme/api", {"fail_on": ["needs-answers"]}).config
    assert config.fail_on == ("needs-answers",)


def test_metric_teams_map_teams_to_key_and_workspace_ids():
    config = from_mapping({"metric": {"teams": {"@acme/data": ["apikey_1", "wrkspc_2"]}}})
    assert config.metric.teams == {"@acme/data": ("apikey_1", "wrkspc_2")}
    with pytest.raises(ConfigError, match="metric.teams.*CODEOWNERS"):
        from_mapping({"metric": {"teams": {"@acme/data": "apikey_1"}}})


def test_the_rollout_controls_default_to_live_no_onboarding_and_every_repository():
    assert (DEFAULT.mode, DEFAULT.onboarding) == ("live", "off")
    assert DEFAULT.repositories.include == ("*",) and DEFAULT.repositories.exclude == ()
    assert all(serves(DEFAULT, repo) for repo in ("acme/api", "acme/.github", "acme/x-legacy"))


def test_the_rollout_controls_are_read_and_checked():
    config = load("mode: shadow\nonboarding: pull-request\nrepositories: {include: [svc-*, api], exclude: ['*-legacy']}")
    assert (config.mode, config.onboarding) == ("shadow", "pull-request")
    assert load("onboarding: off").onboarding == "off"  # YAML 1.1 reads a bare off as false
    with pytest.raises(ConfigError, match="`mode: 'loud'` is not allowed; use one of: live, shadow"):
        load("mode: loud")
    with pytest.raises(ConfigError, match="onboarding.*use one of: off, pull-request"):
        load("onboarding: true")
    with pytest.raises(ConfigError, match="repositories.exclude"):
        load("repositories: {exclude: svc-old}")


@pytest.mark.parametrize("repo, served", [
    ("acme/svc-billing", True), ("acme/SVC-Search", True), ("acme/api", True), ("acme/svc-billing-legacy", False),
    ("acme/api-gateway", False), ("acme/.github", False), ("acme/web", False)])
def test_repositories_include_then_exclude_by_name_in_any_case(repo, served):
    config = load("repositories: {include: [svc-*, API], exclude: ['*-legacy']}")
    assert serves(config, repo) is served


def test_the_rollout_controls_come_from_the_organisations_file_only():
    files = {ORG_FILE: "mode: shadow\nrepositories: {exclude: [old-*]}", REPO_FILE: "drafts: skip\nmode: live\nonboarding: off"}
    org = organisation(reader(files), "acme")
    assert org.config.mode == "shadow" and org.config.repositories.exclude == ("old-*",) and org.problems == ()
    resolved = resolve(reader(files), "acme/api")
    assert resolved.config.drafts == "skip" and not resolved.defaults_used
    assert [problem.split(": ", 1)[0] for problem in resolved.problems] == [f"{REPO_FILE} line 2", f"{REPO_FILE} line 3"]
    assert "`mode` is read from the organisation's file (acme/.github:.github/batch-review.yml) only" in resolved.problems[0]
    assert resolve(reader({ORG_FILE: "mode: shadow"}), "acme/.github").problems == ()  # the organisation's own file
