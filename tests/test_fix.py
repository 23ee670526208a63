"""The ready change: each covered loop shape, run before (synchronous fake) and after (batch fake), prints the same."""

import contextlib
import functools
import io
import re
import runpy
from textwrap import dedent

import pytest

import bot.helper
from bot.cli.main import main
from bot.core.config import from_mapping
from bot.fix import model
from bot.fix.patch import fix_file
from bot.fix.rewrite import WAIT_COMMENT
from bot.scan.model import FileChange
from bot.scan.scanner import scan
from tests.conftest import ROOT
from tests.fake_anthropic import FakeAnthropic

HEADER = """\
import anthropic   # odd spacing and comments outside the loop stay byte for byte

client = anthropic.Anthropic()
# built, not literal: a loop over a short literal list is a parameter sweep to the scanner
DOCS = "alpha beta gamma alpha".split()
ROWS = [dict(id=i, body=b) for i, b in [("a1", " first "), ("b2", "second"), ("c3", "third ")]]
"""

FOOTER = """

if __name__ == "__main__":
    main()
"""

# shape -> the body of main() (and any helper), using DOCS/ROWS and printing what it got
SHAPES = {
    "loop appending to a list": """
        def main():
            summaries = []
            for doc in DOCS:
                response = client.messages.create(
                    model="claude-haiku-4-5",
                    max_tokens=64,  # short answers
                    messages=[{"role": "user", "content": f"Summarize {doc}"}],
                )
                summaries.append(response.content[0].text)
            print(summaries)
        """,
    "loop filling a dict keyed by the item, with a prompt built first": """
        def main():
            by_id = {}
            for row in ROWS:
                prompt = row["body"].strip()
                response = client.messages.create(model="claude-haiku-4-5", max_tokens=64,
                                                  messages=[{"role": "user", "content": prompt}])
                by_id[row["id"]] = response.content[0].text
            print(sorted(by_id.items()))
        """,
    "loop writing to a file and printing": """
        import io

        def main():
            out = io.StringIO()
            for row in ROWS:
                text = client.messages.create(model="claude-haiku-4-5", max_tokens=64,
                                              messages=[{"role": "user", "content": row["body"]}]).content[0].text
                out.write(f"{row['id']}\\t{text}\\n")
                print(row["id"], text)
            print(out.getvalue())
        """,
    "loop unpacking enumerate, dict keyed by position": """
        def main():
            answers = {}
            for number, doc in enumerate(DOCS, 1):
                answers[number] = client.messages.create(
                    model="claude-haiku-4-5", max_tokens=64, messages=[{"role": "user", "content": f"{number}. {doc}"}]
                ).content[0].text
            print(answers)
        """,
    "loop through a helper of the same file": """
        def summarize(doc, style):
            \"\"\"One summary.\"\"\"
            prompt = f"{style}: {doc}"
            response = client.messages.create(
                model="claude-haiku-4-5", max_tokens=64, messages=[{"role": "user", "content": prompt}]
            )
            return response.content[0].text

        def main():
            for row in ROWS:
                print(row["id"], summarize(row["body"], "terse"))
            print(summarize("one more", "chatty"))  # the helper still works on its own
        """,
    "list comprehension": """
        def main():
            texts = [client.messages.create(model="claude-haiku-4-5", max_tokens=64,
                                            messages=[{"role": "user", "content": doc}]).content[0].text for doc in DOCS]
            print(texts)
        """,
    "dict comprehension through a helper": """
        def summarize(doc):
            return client.messages.create(model="claude-haiku-4-5", max_tokens=64,
                                          messages=[{"role": "user", "content": doc}]).content[0].text

        def main():
            print({row["id"]: summarize(row["body"]) for row in ROWS})
        """,
    "executor.map": """
        from concurrent.futures import ThreadPoolExecutor

        def summarize(doc):
            response = client.messages.create(model="claude-haiku-4-5", max_tokens=64,
                                              messages=[{"role": "user", "content": doc}])
            return response.content[0].text

        def main():
            with ThreadPoolExecutor(4) as executor:
                print(list(executor.map(summarize, DOCS)))
        """,
    "executor.submit with as_completed": """
        from concurrent.futures import ThreadPoolExecutor, as_completed

        def summarize(doc):
            return client.messages.create(model="claude-haiku-4-5", max_tokens=64,
                                          messages=[{"role": "user", "content": doc}]).content[0].text

        def main():
            with ThreadPoolExecutor(4) as executor:
                futures = {executor.submit(summarize, doc): doc for doc in DOCS}
                done = {futures[future]: future.result() for future in as_completed(futures)}
            print(sorted(done.items()))
        """,
    "a module-level loop": """
        def main():
            pass

        for doc in DOCS[:2]:
            print(doc, client.messages.create(model="claude-haiku-4-5", max_tokens=64,
                                              messages=[{"role": "user", "content": doc}]).content[0].text)
        """,
}


def program(body: str) -> str:
    return HEADER + dedent(body) + FOOTER


def ready_change(path: str, text: str, **options) -> model.FileFix:
    """What `scan --fix` does for one file: the scanner's calls in, the fixer's result out."""
    return fix_file(path, text, scan([FileChange(path, text)]).calls, **options)


@pytest.fixture
def fake(monkeypatch, tmp_path):
    with FakeAnthropic() as server:
        server.reply = lambda params: "reply to " + params["messages"][0]["content"]
        server.retrieves_before_end = 0
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.base_url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
        monkeypatch.chdir(tmp_path)  # the helper's store
        monkeypatch.setattr(bot.helper, "run_batch", functools.partial(bot.helper.run_batch, poll=0.01))
        yield server


def run(path) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_path(str(path), run_name="__main__")
    return out.getvalue()


@pytest.mark.parametrize("shape", SHAPES)
def test_each_covered_shape_prints_the_same_through_a_batch(shape, fake, tmp_path):
    before = program(SHAPES[shape])
    fix = ready_change("jobs/enrich.py", before)
    assert not fix.refusals and len(fix.rewrites) == 1
    original, rewritten = tmp_path / "original.py", tmp_path / "rewritten.py"
    original.write_text(before)
    rewritten.write_text(fix.after)
    compile(fix.after, "rewritten.py", "exec")

    expected = run(original)
    messages_calls = fake.calls["messages"]
    assert messages_calls > 0 and "reply to" in expected
    assert run(rewritten) == expected
    standalone = shape == "loop through a helper of the same file"  # its last line calls the helper on its own
    assert fake.calls["create"] == 1 and fake.calls["messages"] == messages_calls + standalone


@pytest.mark.parametrize("shape", SHAPES)
def test_lines_outside_the_loop_stay_byte_for_byte_and_the_call_says_it_waits(shape):
    fix = ready_change("jobs/enrich.py", program(SHAPES[shape]))
    import_line = model.DEFAULT_HELPER_IMPORT + "\n"
    assert fix.after.startswith(HEADER.replace("\n", "\n" + import_line, 1)) and fix.after.endswith(FOOTER)
    job = fix.rewrites[0].job
    assert job.startswith("jobs.enrich") and f'job="{job}"' in fix.after
    assert "\n".join(WAIT_COMMENT).format(job=job) in "\n".join(line.strip() for line in fix.after.splitlines())
    assert ".ok:" in fix.after and "messages.create(" not in fix.after.split("def main")[1]


@pytest.mark.parametrize("shape", SHAPES)
def test_no_items_sends_nothing_and_prints_the_same(shape, fake, tmp_path):
    before = program(SHAPES[shape]).replace('DOCS = "alpha beta gamma alpha".split()', 'DOCS = "".split()')
    before = before.replace("ROWS = [dict(", "ROWS = [] and [dict(")
    rewritten = tmp_path / "rewritten.py"
    rewritten.write_text(ready_change("jobs/enrich.py", before).after)
    (tmp_path / "original.py").write_text(before)
    assert run(rewritten) == run(tmp_path / "original.py")
    assert fake.calls["create"] == 0


def test_errors_and_expired_requests_stop_the_run_visibly(fake, tmp_path):
    fix = ready_change("jobs/enrich.py", program(SHAPES["list comprehension"]))
    rewritten = tmp_path / "rewritten.py"
    rewritten.write_text(fix.after)
    fake.outcomes = {}
    fake.reply = lambda params: "x"
    real_create = fake.create

    def create(body, size):  # the second request fails for good, whatever its custom_id
        fake.outcomes[body["requests"][1]["custom_id"]] = ["invalid_request_error"]
        return real_create(body, size)

    fake.create = create
    with pytest.raises(RuntimeError, match="invalid_request_error"):
        run(rewritten)


UNSAFE = {
    model.ASYNC.format(): """
        async def main():
            for doc in DOCS:
                response = await client.messages.create(model="m", max_tokens=5, messages=[doc])
                print(response.content[0].text)
        """,
    model.OTHER_FIELDS.format("response.usage"): """
        def main():
            for doc in DOCS:
                response = client.messages.create(model="m", max_tokens=5, messages=[doc])
                print(response.content[0].text, response.usage)
        """,
    model.SIDE_EFFECT.format("time.sleep(1)"): """
        import time

        def main():
            for doc in DOCS:
                time.sleep(1)
                print(client.messages.create(model="m", max_tokens=5, messages=[doc]).content[0].text)
        """,
    model.STOPS_EARLY.format("break"): """
        def main():
            for doc in DOCS:
                text = client.messages.create(model="m", max_tokens=5, messages=[doc]).content[0].text
                if "stop" in text:
                    break
        """,
    model.NESTED.format("try"): """
        def main():
            for doc in DOCS:
                try:
                    print(client.messages.create(model="m", max_tokens=5, messages=[doc]).content[0].text)
                except anthropic.APIError:
                    pass
        """,
}


@pytest.mark.parametrize("reason", UNSAFE)
def test_unsafe_loops_get_no_patch_but_the_reason_and_a_filled_in_snippet(reason):
    text = program(UNSAFE[reason])
    fix = ready_change("jobs/enrich.py", text)
    assert fix.after == text and fix.diff == "" and not fix.rewrites
    [refusal] = fix.refusals
    assert refusal.reason == reason
    assert "items = list(DOCS)" in refusal.snippet and "for doc, custom_id in zip(items, replies.custom_ids):" in refusal.snippet
    assert 'job="jobs.enrich.main"' in refusal.snippet and "client=client" in refusal.snippet
    compile(refusal.snippet, "snippet.py", "exec")


def test_a_loop_inside_another_loop_is_not_rewritten():
    text = program("""
        def main():
            for doc in DOCS:
                for word in doc.split():
                    print(client.messages.create(model="m", max_tokens=5, messages=[word]).content[0].text)
        """)
    fix = ready_change("jobs/enrich.py", text)  # one job per outer pass would need a name of its own
    assert fix.after == text and [r.reason for r in fix.refusals] == [
        model.NESTED.format("for"), model.SHAPE.format("a loop inside another loop")]


def test_a_loop_that_sends_each_reply_back_is_set_aside_by_the_scanner_so_nothing_is_refused():
    text = program("""
        def main():
            history = []
            for doc in DOCS:
                reply = client.messages.create(model="m", max_tokens=5, messages=history + [doc]).content[0].text
                history.append({"role": "assistant", "content": reply})
        """)
    fix = ready_change("jobs/enrich.py", text)
    assert fix.after == text and not fix.rewrites and not fix.refusals


def test_a_client_from_another_module_is_not_rewritten():
    text = dedent("""\
        from myapp.llm import claude

        def main(rows):
            for row in rows:
                print(claude.messages.create(model="m", max_tokens=5, messages=[row]).content[0].text)
        """)
    [refusal] = ready_change("jobs/enrich.py", text).refusals
    assert refusal.reason == model.CLIENT_ELSEWHERE.format("claude")


def test_the_helper_import_is_configurable_and_added_once():
    text = program(SHAPES["list comprehension"] + SHAPES["a module-level loop"].replace("def main():\n    pass", ""))
    fix = ready_change("jobs/enrich.py", text, helper_import="from acme.batches import run_batch")
    assert fix.after.count("from acme.batches import run_batch\n") == 1 and len(fix.rewrites) == 2
    assert len({r.job for r in fix.rewrites}) == 2


def test_job_names_come_from_the_file_and_function():
    assert model.job_name("jobs/enrich.py", "main") == "jobs.enrich.main"
    assert model.job_name("./scripts/back fill.py", None) == "scripts.back-fill"
    assert bot.helper.JOB_NAME.fullmatch(model.job_name("/" + "x/" * 80 + "a.py", "f"))


def test_scan_fix_prints_the_diff_and_the_refusals_and_apply_writes_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "jobs").mkdir()
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "batch-review.yml").write_text("helper_import: from acme.batches import run_batch\n")
    job = tmp_path / "jobs" / "enrich.py"
    text = program(SHAPES["list comprehension"]) + dedent(UNSAFE[model.ASYNC]).replace("def main", "def later")
    job.write_text(text)

    assert main(["scan", "jobs/enrich.py", "--fix"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("--- a/jobs/enrich.py\n+++ b/jobs/enrich.py\n") and "+from acme.batches import run_batch" in out
    assert f"no ready change: {model.ASYNC}. A batched version to adapt:" in out
    assert out.endswith("1 loop moved onto run_batch (in 1 file), 1 left as it is.\n") and job.read_text() == text

    assert main(["scan", "jobs/enrich.py", "--apply"]) == 0
    assert "written to 1 file" in capsys.readouterr().out
    assert job.read_text() == ready_change("jobs/enrich.py", text, helper_import="from acme.batches import run_batch").after


def test_a_bad_helper_import_is_a_config_error_naming_the_key(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "job.py").write_text(program(SHAPES["list comprehension"]))
    (tmp_path / "c.yml").write_text("helper_import: import os; os.system('x')\n")
    assert main(["scan", "job.py", "--fix", "--config", "c.yml"]) == 2
    assert "`helper_import: " in capsys.readouterr().err
    assert from_mapping({"helper_import": "from acme.batches import run_batch"}).helper_import.startswith("from acme")


def test_apply_keeps_crlf_line_endings_and_reports_a_file_that_is_not_utf8(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    text = program(SHAPES["list comprehension"])
    (tmp_path / "crlf.py").write_bytes(text.replace("\n", "\r\n").encode())
    (tmp_path / "latin.py").write_bytes(("# caf\xe9\n" + text).encode("latin-1"))
    assert main(["scan", "crlf.py", "latin.py", "--apply"]) == 0
    written = (tmp_path / "crlf.py").read_bytes()
    assert written.count(b"\n") == written.count(b"\r\n") and written.startswith(HEADER.split("\n")[0].encode() + b"\r\n")
    assert written.decode().replace("\r\n", "\n") == ready_change("crlf.py", text).after
    assert re.search(rf"^latin.py:\d+: no ready change: {re.escape(model.UNPARSED.format('not UTF-8'))}", capsys.readouterr().out, re.M)


def test_the_readme_example_is_the_fixers_own_output():
    section = (ROOT / "README.md").read_text().split("## The ready change\n", 1)[1].split("\n## ", 1)[0]
    before = section.split("```python\n", 1)[1].split("```\n", 1)[0]
    shown = section.split("```diff\n", 1)[1].split("```\n", 1)[0]
    assert ready_change("jobs/enrich.py", before).diff == shown
