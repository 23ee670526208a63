"""The scanner on small files we wrote: each signal, each wrapper, and each false friend."""

import ast
import sys
from textwrap import dedent

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.scan import scanner
from bot.scan.model import ALL, FileChange, Note
from bot.scan.python import scan_python
from bot.scan.scanner import scan
from tests.conftest import ROOT

HEADER = "import anthropic\n\nclient = anthropic.Anthropic()\n"


def claude(block: str) -> str:
    """A module that imports the SDK and makes a client, then the block."""
    return HEADER + dedent(block)


def calls(source, path="app/service.py", changed=ALL, added=False, others=()):
    return scan([FileChange(path, dedent(source), changed, added), *others]).calls


def only(source, **options):
    (call,) = calls(source, **options)
    return call


def signals(call):
    return [(s.id, s.description) for s in call.signals]


def line_of(source, needle, nth=1):
    lines = [n for n, row in enumerate(dedent(source).splitlines(), 1) if needle in row]
    return lines[nth - 1]


# --- Signals --------------------------------------------------------------------------------------

def test_a_call_inside_a_loop_names_the_collection():
    source = claude("""
    def enrich(rows):
        for row in rows:
            client.messages.create(model="claude-sonnet-4-5", max_tokens=200, messages=[row])
    """)
    call = only(source)
    assert (call.api, call.line, call.batched) == ("messages.create", line_of(source, "messages.create"), False)
    assert signals(call) == [("loop", "inside a loop over `rows`")]
    assert call.signals[0].line == line_of(source, "for row")


def test_enumerate_and_progress_bars_are_seen_through():
    call = only(claude("""
    for i, row in enumerate(tqdm(df.itertuples())):
        client.messages.create(max_tokens=5, messages=[])
    """))
    assert signals(call) == [("loop", "inside a loop over `df.itertuples()`")]


def test_a_call_in_a_comprehension_and_in_an_async_loop():
    source = """
    from anthropic import AsyncAnthropic
    client = AsyncAnthropic()

    async def run(rows, pages):
        answers = await asyncio.gather(*[client.messages.create(max_tokens=9, messages=[r]) for r in rows])
        async for page in pages:
            await client.messages.create(max_tokens=9, messages=[page])
    """
    first, second = calls(source)
    assert signals(first) == [("async-fan-out", "run concurrently by `asyncio.gather`"),
                              ("comprehension", "in a comprehension over `rows`")]
    assert signals(second) == [("loop", "inside a loop over `pages`")]


def test_a_thread_pool_map_and_a_loop_through_the_function_that_calls():
    source = claude("""
    from concurrent.futures import ThreadPoolExecutor

    def summarize(ticket):
        return client.messages.create(model="claude-haiku-4-5", max_tokens=300, messages=[ticket])

    def main(tickets, backlog):
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(summarize, tickets))
        for item in backlog:
            summarize(item)
    """)
    call = only(source)
    assert signals(call) == [
        ("thread-pool-map", f"mapped over `tickets` by `pool.map` (through `summarize()` at line {line_of(source, 'pool.map')})"),
        ("loop", f"inside a loop over `backlog` (through `summarize()` at line {line_of(source, 'summarize(item)')})"),
    ]


def test_callers_are_followed_a_few_levels_and_methods_through_self():
    call = only(claude("""
    class Enricher:
        def ask(self, row):
            return client.messages.create(max_tokens=1, messages=[row])

        def one(self, row):
            return self.ask(row)

        def all(self, rows):
            return [self.one(row) for row in rows]
    """))
    assert [s.id for s in call.signals] == ["comprehension"]
    assert "through `one()`" in call.signals[0].description


def test_pandas_apply_and_builtin_map_with_a_lambda():
    first, second = calls(claude("""
    df["summary"] = df["text"].apply(lambda t: client.messages.create(max_tokens=50, messages=[t]))
    results = list(map(lambda r: client.messages.create(max_tokens=50, messages=[r]), rows))
    """))
    assert signals(first) == [("comprehension", "mapped over `df['text']` by `.apply`")]
    assert signals(second) == [("comprehension", "mapped over `rows` by `map`")]


@pytest.mark.parametrize("path, description", [
    ("jobs/enrich.py", "in an offline-job folder (`jobs/`)"),
    ("tools/scripts/reclassify.py", "in an offline-job folder (`scripts/`)"),
    ("app/nightly_digest.py", "the file name says `nightly`"),
    ("app/backfillEmbeddings.py", "the file name says `backfill`"),
    ("etl_steps/load.py", "the path says `etl`"),
])
def test_the_path_of_a_scheduled_or_offline_job(path, description):
    call = only(HEADER + "client.messages.create(max_tokens=1, messages=[])\n", path=path, added=True)
    assert ("scheduled-job", description) in signals(call)
    assert call.adds_signal


def test_descriptions_never_hold_a_backtick_of_their_own():
    found = calls(HEADER + "for r in rows['`x`']:\n    client.messages.create(max_tokens=1, messages=[])\n",
                  path="Scripts/a`b.py", others=[FileChange(".github/workflows/we`ird.yml", "on:\n  schedule:\n    - run: a`b.py\n")])
    assert len(found[0].signals) == 3  # the loop, the folder and the workflow: each description checked
    for signal in found[0].signals:
        assert signal.description.count("`") == 2, signal


def test_words_only_count_whole():
    call = only(HEADER + "client.messages.create(max_tokens=1, messages=[])\n", path="app/settlement.py")
    assert call.signals == ()


def test_an_airflow_task_and_a_dagster_import():
    airflow = """
    from airflow.decorators import dag, task
    import anthropic

    @task
    def enrich(rows):
        client = anthropic.Anthropic()
        return client.messages.create(max_tokens=1, messages=rows)
    """
    call = only(airflow)
    assert signals(call) == [("scheduled-job", "`enrich()` is decorated `@task` (Airflow)")]
    assert call.signals[0].line == line_of(airflow, "@task")
    dagster = claude("""
    import dagster

    def label(batch):
        return client.messages.create(max_tokens=1, messages=batch)
    """)
    call = only(dagster)
    assert signals(call) == [("scheduled-job", "the file imports Dagster (`dagster`)")]
    assert call.signals[0].line == line_of(dagster, "import dagster")


def workflow(schedule_changed=True, runs="python jobs/enrich.py"):
    text = dedent(f"""\
        name: nightly
        on:
          schedule:
            - cron: "0 3 * * *"
        jobs:
          run:
            runs-on: ubuntu-latest
            steps:
              - run: {runs}
        """)
    return FileChange(".github/workflows/nightly.yml", text, ALL if schedule_changed else frozenset({9}))


def test_a_scheduled_workflow_added_in_the_same_diff_that_runs_the_file():
    source = HEADER + "client.messages.create(max_tokens=1, messages=[])\n"
    call = only(source, path="app/enrich.py", others=[workflow()])
    assert signals(call) == [("scheduled-job", "run on a schedule by `.github/workflows/nightly.yml`")]
    assert (call.signals[0].path, call.signals[0].line, call.signals[0].changed) == (".github/workflows/nightly.yml", 3, True)
    by_module = only(source, path="app/enrich.py", others=[workflow(runs="python -m app.enrich --all")])
    assert by_module.signals


def test_a_workflow_schedule_not_in_the_diff_or_running_another_file_is_no_signal():
    source = HEADER + "client.messages.create(max_tokens=1, messages=[])\n"
    assert only(source, path="app/enrich.py", others=[workflow(schedule_changed=False)]).signals == ()
    assert only(source, path="app/enrich.py", others=[workflow(runs="python app/report.py")]).signals == ()
    assert only(source, path="app/enrich.py", others=[workflow(runs="python app/enrich.pyc")]).signals == ()


# --- Already on the batch path --------------------------------------------------------------------

@pytest.mark.parametrize("source, api, how", [
    (HEADER + "client.messages.batches.create(requests=reqs)\n", "messages.batches.create", "the Message Batches API"),
    (HEADER + "client.beta.messages.batches.create(requests=reqs)\n", "messages.batches.create", "the Message Batches API"),
    ("from bot.helper import run_batch\nrun_batch(rows, build_params, job='nightly')\n", "run_batch",
     "the shared `run_batch` helper"),
    ("from ourlib.batching import run_batch as submit\nsubmit(rows, build)\n", "run_batch", "the shared `run_batch` helper"),
    ("from bot import helper\nhelper.run_batch(rows, build)\n", "run_batch", "the shared `run_batch` helper"),
    ("import boto3\nb = boto3.client('bedrock')\nb.create_model_invocation_job(modelId='anthropic.claude-3-haiku', "
     "jobName='x')\n", "bedrock.create_model_invocation_job", "Bedrock batch inference"),
])
def test_already_batched(source, api, how):
    call = only(f"for chunk in chunks:\n    pass\n{source}", path="jobs/nightly.py")
    assert (call.api, call.batched, signals(call)) == (api, True, [("already-batched", f"goes through {how}")])


def test_a_scan_that_adds_only_batched_calls_is_not_a_workload():
    source = HEADER + "client.messages.batches.create(requests=[p(r) for r in rows])\n"
    result = scan([FileChange("jobs/submit.py", source)])
    assert result.calls and not result.workload


# --- The common wrappers --------------------------------------------------------------------------

@pytest.mark.parametrize("source, api", [
    ("from anthropic import AnthropicBedrock\nc = AnthropicBedrock()\nc.messages.create(max_tokens=1, messages=[])\n",
     "messages.create"),
    ("from anthropic import AnthropicVertex\nc = AnthropicVertex(region='x')\nwith c.messages.stream(max_tokens=1, "
     "messages=[]) as s:\n    pass\n", "messages.stream"),
    ("import anthropic\nc = anthropic.Anthropic()\nc.messages.with_raw_response.create(max_tokens=1, messages=[])\n",
     "messages.create"),
    ("from langchain_anthropic import ChatAnthropic\nllm = ChatAnthropic(model='claude-sonnet-4-5')\n", "ChatAnthropic"),
    ("import litellm\nlitellm.completion(model='anthropic/claude-3-5-sonnet', messages=m)\n", "litellm.completion"),
    ("from litellm import acompletion\nMODEL = 'claude-3-haiku-20240307'\nawait acompletion(MODEL, messages=m)\n",
     "litellm.acompletion"),
    ("import boto3\nrt = boto3.client('bedrock-runtime')\nrt.invoke_model(modelId='anthropic.claude-3-haiku-20240307-v1:0', "
     "body=b)\n", "bedrock.invoke_model"),
    ("import boto3, os\nMODEL_ID = os.environ.get('MODEL', 'us.anthropic.claude-sonnet-4-5')\n"
     "boto3.client('bedrock-runtime').converse(modelId=MODEL_ID, messages=m)\n", "bedrock.converse"),
])
def test_wrappers_people_use_for_claude(source, api):
    assert only(source).api == api


@pytest.mark.parametrize("source", [
    "import litellm\nlitellm.completion(model='gpt-4o', messages=m)\n",
    "import boto3\nrt = boto3.client('bedrock-runtime')\nrt.invoke_model(modelId='amazon.titan-text-express-v1', body=b)\n",
    "import litellm\nMODELS = ['claude-3-haiku']\nlitellm.completion(model='gemini/gemini-1.5-pro', messages=m)\n",
])
def test_wrappers_calling_other_models_are_not_claude(source):
    assert calls(source) == ()


def test_a_langchain_model_invoked_in_a_loop_and_its_batch_method():
    source = """
    from langchain_anthropic import ChatAnthropic

    llm = ChatAnthropic(model="claude-haiku-4-5")
    for doc in docs:
        llm.invoke(doc)
    llm.batch(prompts)
    """
    constructor, invoke, batch = calls(source)
    assert (constructor.api, invoke.api, batch.api) == ("ChatAnthropic", "ChatAnthropic.invoke", "ChatAnthropic.batch")
    assert signals(invoke) == [("loop", "inside a loop over `docs`")]
    assert signals(batch) == [("thread-pool-map", "sends each of `prompts` as its own synchronous request by `batch`")]
    assert not batch.batched


# --- False friends --------------------------------------------------------------------------------

def test_a_chat_handler_calling_claude_once_per_request_has_no_bulk_signal():
    call = only(claude("""
    @app.post("/chat")
    def chat(request):
        history = [{"role": m.role, "content": m.text} for m in request.messages]
        reply = client.messages.create(model="claude-sonnet-4-5", max_tokens=1024, messages=history)
        for block in reply.content:
            yield block.text
    """))
    assert call.signals == () and call.new  # a new call site, answered by the checklist, not by a signal


def test_a_loop_that_only_builds_prompts_then_makes_one_call():
    call = only(claude("""
    prompts = []
    for row in rows:
        prompts.append(f"Summarise {row}")
    client.messages.create(max_tokens=500, messages=[{"role": "user", "content": "\\n".join(prompts)}])
    """))
    assert call.signals == ()


@pytest.mark.parametrize("loop", [
    "for attempt in range(5):", "for _ in range(3):", "while True:", "while response.stop_reason == 'tool_use':",
])
def test_retries_servers_and_tool_use_loops_are_not_bulk(loop):
    call = only(claude(f"""
    {loop}
        response = client.messages.create(max_tokens=1, messages=[])
    """))
    assert call.signals == ()


def test_a_test_file_with_a_mocked_client_is_not_counted():
    source = """
    from unittest import mock
    import anthropic

    def test_enrich():
        client = mock.create_autospec(anthropic.Anthropic)
        for row in ["a", "b"]:
            client.messages.create(max_tokens=1, messages=[row])
    """
    for path in ("tests/test_enrich.py", "app/enrich_test.py", "conftest.py", "app/mocks/claude.py"):
        result = scan([FileChange(path, dedent(source))])
        assert result.calls == () and not result.workload
        assert [n.path for n in result.notes] == [path] and "not counted" in result.notes[0].text


def test_code_in_comments_and_strings_is_not_a_call():
    source = HEADER + '''
    # for row in rows: client.messages.create(max_tokens=1)
    EXAMPLE = """
    for row in rows:
        client.messages.create(model="claude-sonnet-4-5", max_tokens=1)
    """
    docs = "call client.messages.create(...) in a loop"
    '''
    assert calls(source) == ()


def test_other_messages_apis_are_not_claude():
    twilio = "from twilio.rest import Client\nclient = Client()\nfor n in numbers:\n    client.messages.create(to=n, body='hi')\n"
    openai = "from openai import OpenAI\nc = OpenAI()\nc.beta.threads.messages.create(thread_id=t, content='x', role='user')\n"
    assert calls(twilio) == () and calls(openai) == ()


def test_a_client_passed_in_counts_when_the_call_looks_like_claude():
    assert only("def enrich(client, rows):\n    for r in rows:\n        client.messages.create(max_tokens=9, messages=r)\n")


# --- What the diff adds ---------------------------------------------------------------------------

NIGHTLY = claude("""
PROMPT = "Classify this listing."

def enrich(rows):
    for row in rows:
        client.messages.create(
            model="claude-haiku-4-5",
            max_tokens=100,
            system=PROMPT,
            messages=[{"role": "user", "content": row}],
        )
""")


def test_a_prompt_tweak_next_to_an_existing_call_is_not_an_added_call_site():
    call = only(NIGHTLY, changed=frozenset({line_of(NIGHTLY, "system=PROMPT")}))
    assert not call.changed and not call.adds_signal and not call.new
    assert not scan([FileChange("app/enrich.py", dedent(NIGHTLY), frozenset({line_of(NIGHTLY, "system=")}))]).workload


def test_a_change_far_from_any_call_reports_nothing():
    assert calls(NIGHTLY, changed=frozenset({line_of(NIGHTLY, "PROMPT =")})) == ()


def test_an_added_call_line_is_an_added_call_site():
    result = scan([FileChange("app/enrich.py", dedent(NIGHTLY), frozenset({line_of(NIGHTLY, "messages.create")}))])
    (call,) = result.calls
    assert call.changed and call.new and result.workload
    assert not call.signals[0].changed  # the loop was already there


def test_wrapping_an_existing_call_in_a_loop_adds_a_bulk_signal():
    result = scan([FileChange("app/enrich.py", dedent(NIGHTLY), frozenset({line_of(NIGHTLY, "for row")}))])
    (call,) = result.calls
    assert not call.changed and call.adds_signal and result.workload


def test_only_changed_lines_count_but_the_loop_comes_from_the_whole_file():
    source = claude("""
    def nightly(rows):
        for row in rows:
            client.messages.create(max_tokens=1, messages=[row])

    def chat(q):
        # one question from the help page
        print("asked", q)
        return client.messages.create(max_tokens=1, messages=[q])
    """)
    (call,) = calls(source, changed=frozenset({line_of(source, "messages.create")}))
    assert call.signals[0].description == "inside a loop over `rows`"


def test_a_new_file_in_a_job_folder_adds_a_bulk_signal_an_old_one_does_not():
    source = HEADER + "client.messages.create(max_tokens=1, messages=[])\n"
    line = line_of(source, "messages.create")
    near = frozenset({line - 1})
    assert only(source, path="jobs/x.py", changed=near, added=True).adds_signal
    assert not only(source, path="jobs/x.py", changed=near, added=False).adds_signal


# --- JavaScript and TypeScript --------------------------------------------------------------------

TS = """\
import Anthropic from "@anthropic-ai/sdk";

const client = new Anthropic();
// for (const r of rows) await client.messages.create({ max_tokens: 1 })
/* client.messages.create({}) */
const hint = "client.messages.create(";
const tpl = `call ${"x"} client.messages.create(`;
const pattern = /messages.create\\(/;

export async function enrichAll(rows: Row[]) {
  for (const row of rows) {
    await client.messages.create({ model: "claude-haiku-4-5", max_tokens: 100, messages: [row] });
  }
  await Promise.all(items.map(async (item) => client.messages.create({ max_tokens: 1, messages: [item] })));
  for (let i = 0; i < pages.length; i++)
    await client.messages.create({ max_tokens: 1, messages: [] });
  for (let attempt = 0; attempt < 3; attempt++) {
    await client.messages.create({ max_tokens: 1, messages: [] });
  }
}

export async function chat(req: Request) {
  return client.messages.stream({ max_tokens: 1024, messages: req.body.messages });
}

await client.messages.batches.create({ requests });
"""


def test_typescript_calls_loops_comments_and_strings():
    found = calls(TS, path="src/enrich.ts")
    assert [(c.line, c.api) for c in found] == [
        (12, "@anthropic-ai/sdk messages.create"), (14, "@anthropic-ai/sdk messages.create"),
        (16, "@anthropic-ai/sdk messages.create"), (18, "@anthropic-ai/sdk messages.create"),
        (23, "@anthropic-ai/sdk messages.stream"), (26, "@anthropic-ai/sdk messages.batches.create"),
    ]
    assert [signals(c) for c in found] == [
        [("loop", "inside a loop over `rows`")],
        [("comprehension", "mapped over `items` by `.map`")],
        [("loop", "inside a loop over `pages`")],
        [], [],
        [("already-batched", "goes through the Message Batches API")],
    ]
    assert found[0].signals[0].line == 11


def test_javascript_require_and_other_messages_apis():
    js = "const Anthropic = require('@anthropic-ai/sdk');\nconst c = new Anthropic();\nrows.forEach(r => c.messages.create({}));\n"
    (call,) = calls(js, path="scripts/run.cjs")
    assert signals(call) == [("comprehension", "mapped over `rows` by `.forEach`"),
                             ("scheduled-job", "in an offline-job folder (`scripts/`)")]
    twilio = "const client = require('twilio')(sid, token);\nfor (const n of numbers) client.messages.create({ to: n, body: 'hi' });\n"
    assert calls(twilio, path="src/sms.js") == ()
    openai = "import OpenAI from 'openai';\nopenai.beta.threads.messages.create(id, { max_tokens: 5 });\n"
    assert calls(openai, path="src/a.mjs") == ()


def test_a_spec_file_is_not_counted():
    result = scan([FileChange("src/enrich.spec.ts", TS)])
    assert result.calls == () and "6 not counted" in result.notes[0].text


# --- Files that do not parse ----------------------------------------------------------------------

def test_python_2_falls_back_to_text_and_says_so():
    source = """\
    import anthropic
    print "starting"
    for row in rows:
        client.messages.create(model="claude-2", max_tokens=10)  # a comment: messages.create(
    """
    result = scan([FileChange("legacy/enrich.py", dedent(source))])
    (call,) = result.calls
    assert (call.line, call.api, signals(call)) == (4, "messages.create", [("loop", "inside a loop over `rows`")])
    (note,) = result.notes
    assert note.path == "legacy/enrich.py" and note.text.startswith("not valid Python 3 (line 2:")


@pytest.mark.parametrize("text", ["def (:\n", "\x00\x00", "x = '''unterminated\nclient.messages.create(", "(" * 5000])
def test_broken_files_never_crash(text):
    scan([FileChange("a.py", text), FileChange("b.ts", text)])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(list("for(){}[]`'\"/\\*#\n :=;.") + ["messages.create(", "while", "claude",
                                                                       "import anthropic", "    "]), max_size=120).map("".join))
def test_any_text_scans_without_an_error(text):
    scan([FileChange("x.py", text), FileChange("x.ts", text), FileChange(".github/workflows/x.yml", text)])


def test_a_file_that_could_not_be_read_is_a_note():
    result = scan([FileChange("jobs/big.py", None)])
    assert result.calls == () and result.notes[0].path == "jobs/big.py"


def test_the_scanner_imports_only_the_standard_library():
    for path in (ROOT / "bot" / "scan").glob("*.py"):
        tree = ast.parse(path.read_text())
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert all(name.split(".")[0] in sys.stdlib_module_names | {"__future__"} or name.startswith("bot.scan.")
                   for name in imported), path


# --- Files Python parses but a recursive walk cannot follow (issue 12) -----------------------------

def test_six_hundred_elifs_and_a_thousand_string_parts_are_walked_without_recursion():
    elifs = "".join(f"    elif x == {n}:\n        y = {n}\n" for n in range(600))
    chained = " + ".join(f'"part{n}"' for n in range(1000))
    source = (HEADER + "def route(x, rows):\n    if x == -1:\n        y = 0\n" + elifs
              + f"    for row in rows:\n        client.messages.create(max_tokens=5, messages=[{chained}, row])\n")
    ast.parse(source)  # valid Python: the parser copes, the scanner must too
    call = only(source)
    assert signals(call) == [("loop", "inside a loop over `rows`")]


def test_a_file_the_scanner_cannot_follow_is_a_note_and_the_others_are_still_scanned(monkeypatch):
    def too_deep(change):
        if change.path == "jobs/deep.py":
            raise RecursionError("maximum recursion depth exceeded")
        return scan_python(change)

    monkeypatch.setattr(scanner, "scan_python", too_deep)
    loop = claude("for row in rows:\n    client.messages.create(max_tokens=5, messages=[row])\n")
    result = scan([FileChange("jobs/deep.py", loop), FileChange("jobs/enrich.py", loop)])
    assert [c.path for c in result.calls] == ["jobs/enrich.py"]
    assert result.notes == (Note("jobs/deep.py", "nested too deeply for the scanner to follow; not scanned"),)
