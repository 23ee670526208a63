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


# --- What stands and what is set aside (issue 14): both sides of every shape -------------------------

def dismissed(call):
    return [(d.signal, d.reason) for d in call.dismissed]


def test_a_conversation_grown_by_each_reply_is_set_aside_and_fresh_conversations_per_item_are_not():
    chat = only(claude("""
    history = []
    for said in script:
        history.append({"role": "user", "content": said})
        reply = client.messages.create(max_tokens=9, messages=history)
        history.append({"role": "assistant", "content": reply.content})
    """))
    assert signals(chat) == [] and dismissed(chat) == [
        ("loop", "each call sends what the one before returned (`history`)")]
    first, second = calls(claude("""
    for brief in briefs:
        messages = [{"role": "user", "content": brief}]
        first = client.messages.create(max_tokens=9, messages=messages)
        messages.append({"role": "assistant", "content": first.content})
        second = client.messages.create(max_tokens=9, messages=messages)
    """))
    assert signals(first) == signals(second) == [("loop", "inside a loop over `briefs`")]


def test_a_prompt_built_from_the_last_answer_is_set_aside_and_one_built_from_the_item_is_not():
    chained = only(claude("""
    for note in notes:
        prompt = f"Improve with {note}: {essay}"
        essay = client.messages.create(max_tokens=9, messages=[prompt]).content[0].text
    """))
    assert dismissed(chained) == [("loop", "each call sends what the one before returned (`essay`)")]
    independent = only(claude("""
    last = None
    for note in notes:
        prompt = f"Summarise: {note}"
        last = client.messages.create(max_tokens=9, messages=[prompt]).content[0].text
    """))
    assert signals(independent) == [("loop", "inside a loop over `notes`")]


def test_a_function_fed_its_own_output_in_a_loop_is_set_aside():
    call = only(claude("""
    def step(draft):
        return client.messages.create(max_tokens=9, messages=[draft]).content[0].text

    for critique in critiques:
        draft = step(draft + critique)
    """))
    assert signals(call) == [] and dismissed(call)[0][1].startswith("each call sends what the one before returned")


def test_an_agent_per_item_is_set_aside_and_forced_tool_extraction_per_item_is_not():
    first, turn = calls(claude("""
    for task in tasks:
        response = client.messages.create(max_tokens=9, tools=TOOLS, messages=[task])
        while response.stop_reason == "tool_use":
            response = client.messages.create(max_tokens=9, tools=TOOLS, messages=[task, run(response)])
    """))
    agent = ("loop", "each item runs a multi-turn tool-use conversation (line 7): not one batch as written "
                     "(the first turn of every item could be)")
    assert signals(first) == [] and dismissed(first) == [agent]
    assert dismissed(turn) == [agent, ("loop", "a tool-use loop: each turn waits on the one before")]
    extraction = only(claude("""
    for doc in docs:
        response = client.messages.create(max_tokens=9, tools=[SCHEMA], tool_choice={"type": "tool"}, messages=[doc])
        rows += [b.input for b in response.content if b.type == "tool_use"]
    """))
    assert signals(extraction) == [("loop", "inside a loop over `docs`")]


def test_callers_of_an_agent_function_are_set_aside():
    call = only(claude("""
    def agent(question):
        history = [question]
        for turn in range(MAX_TURNS):
            msg = client.messages.create(max_tokens=9, tools=TOOLS, messages=history)
            if msg.stop_reason != "tool_use":
                return msg
            history.append({"type": "tool_result", "content": use(msg)})

    answers = [agent(q) for q in questions]
    """))
    assert signals(call) == []
    assert dismissed(call) == [
        ("loop", "a tool-use loop: each turn waits on the one before"),
        ("comprehension", "each item runs a multi-turn tool-use conversation in `agent()`: not one batch as written "
                          "(the first turn of every item could be) (through `agent()` at line 13)")]


@pytest.mark.parametrize("loop, reason", [
    ("for t in [0.0, 0.5, 1.0]:", "`[0.0, 0.5, 1.0]` holds 3 literal values: a parameter sweep, not a dataset"),
    ("for model in MODELS:", "`MODELS` holds 2 literal values: a parameter sweep, not a dataset"),
    ("for name, prompt in PROMPTS.items():", "`PROMPTS.items()` holds 2 literal values: a parameter sweep, not a dataset"),
    ("for t, m in itertools.product(TEMPS, MODELS):",
     "`itertools.product(TEMPS, MODELS)` runs over a few literal values: a parameter sweep, not a dataset"),
    ("for i in range(N):", "`range(N)` repeats a handful of times: retries or samples, not a dataset"),
    ("for attempt in range(RETRIES):", "`attempt` counts retries, not items"),
])
def test_a_sweep_over_a_few_literal_values_is_set_aside(loop, reason):
    call = only(claude(f"""
    MODELS = ("claude-haiku-4-5", "claude-sonnet-4-5")
    PROMPTS = {{"a": "one", "b": "two"}}
    TEMPS = (0.1, 0.9)
    N = 5
    {loop}
        client.messages.create(max_tokens=9, messages=[])
    """))
    assert signals(call) == [] and dismissed(call) == [("loop", reason)]


@pytest.mark.parametrize("loop", [
    "for t in [" + ", ".join(map(str, range(11))) + "]:",  # eleven values: more than a sweep
    "for model in MODELS:",  # rebound to something that is not a short literal
    "for i in range(LIMIT):",  # LIMIT is larger than a handful
])
def test_a_loop_over_more_than_a_few_values_stands(loop):
    call = only(claude(f"""
    MODELS = ("a", "b")
    MODELS = load_models()
    LIMIT = 500
    {loop}
        client.messages.create(max_tokens=9, messages=[])
    """))
    assert [s.id for s in call.signals] == ["loop"]


def test_a_call_timed_for_its_latency_is_set_aside_and_a_timed_run_over_a_dataset_is_not():
    probe = only(claude("""
    for prompt in prompts:
        started = time.perf_counter()
        client.messages.create(max_tokens=1, messages=[prompt])
        latencies.append(time.perf_counter() - started)
    """))
    assert dismissed(probe) == [("loop", "timed for its latency (`started` read at line 6): somebody waits on it")]
    run = only(claude("""
    started = time.perf_counter()
    for prompt in prompts:
        client.messages.create(max_tokens=1, messages=[prompt])
    print(time.perf_counter() - started)
    """))
    assert signals(run) == [("loop", "inside a loop over `prompts`")]


CI_SCRIPT = claude("""
for name in changed_files():
    client.messages.create(max_tokens=9, messages=[open(name).read()])
""")


def test_ci_time_code_under_github_is_set_aside_unless_a_scheduled_or_dispatched_workflow_runs_it():
    (call,) = calls(CI_SCRIPT, path=".github/scripts/review.py")
    ci = "CI-time code under `.github/`: a pull_request or push workflow runs it while the author waits"
    assert signals(call) == [] and dismissed(call) == [("loop", ci), ("scheduled-job", ci)]
    for trigger in ("schedule:\n    - cron: '0 6 * * 1'", "workflow_dispatch:"):
        workflow = FileChange(".github/workflows/digest.yml",
                              f"on:\n  {trigger}\njobs:\n  x:\n    steps:\n      - run: python .github/scripts/review.py\n")
        (call,) = calls(CI_SCRIPT, path=".github/scripts/review.py", others=(workflow,))
        assert [s.id for s in call.signals][:2] == ["loop", "scheduled-job"], trigger


def test_executor_submit_in_a_loop_or_comprehension_is_bulk_and_a_single_submit_is_not():
    source = claude("""
    from concurrent.futures import ThreadPoolExecutor, as_completed

    def label(ticket):
        return client.messages.create(max_tokens=9, messages=[ticket])

    with ThreadPoolExecutor(8) as ex:
        futures = {ex.submit(label, t): t for t in tickets}
        for done in as_completed(futures):
            print(done.result())
        one = ex.submit(label, urgent)
    """)
    (call,) = calls(source)
    assert signals(call) == [
        ("comprehension", "in a comprehension over `tickets` (through `label()` at line 11)"),
        ("executor-submit", "submitted to a pool by `ex.submit` (through `label()` at line 11)")]
    assert dismissed(call) == [("executor-submit", "a fixed number of concurrent calls, not one per item of a "
                                                   "collection (through `label()` at line 14)")]


def test_executor_map_reaches_claude_through_other_functions_of_the_file():
    call = only(claude("""
    def ask(text):
        return client.messages.create(max_tokens=9, messages=[text])

    def summarise(article):
        return {"id": article["id"], "summary": ask(article["text"])}

    with ThreadPoolExecutor(max_workers=16) as ex:
        results = list(ex.map(summarise, articles))
    """))
    assert signals(call) == [("thread-pool-map", "mapped over `articles` by `ex.map` (through `summarise()` at line 12)")]


def test_async_fan_out_over_a_collection_is_bulk_and_a_fixed_gather_is_not():
    source = """
    import asyncio
    from anthropic import AsyncAnthropic
    client = AsyncAnthropic()

    async def ask(x):
        return await client.messages.create(max_tokens=9, messages=[x])

    async def main(docs, feed):
        await asyncio.gather(*[ask(d) for d in docs])
        async with asyncio.TaskGroup() as tg:
            for post in feed:
                tg.create_task(ask(post))
        tasks = []
        for url in urls:
            tasks.append(ask(url))
        pair = await asyncio.gather(ask("pros"), ask("cons"))
    """
    call = only(source)
    assert signals(call) == [
        ("async-fan-out", "run concurrently by `asyncio.gather` (through `ask()` at line 10)"),
        ("comprehension", "in a comprehension over `docs` (through `ask()` at line 10)"),
        ("loop", "inside a loop over `feed` (through `ask()` at line 13)"),
        ("async-fan-out", "run concurrently by `tg.create_task` (through `ask()` at line 13)"),
        ("loop", "inside a loop over `urls` (through `ask()` at line 16)"),
        ("async-fan-out", "`ask()` started without `await`, to run concurrently (through `ask()` at line 16)")]
    assert dismissed(call) == [("async-fan-out", "a fixed number of concurrent calls, not one per item of a "
                                                 "collection (through `ask()` at line 17)")]


def test_a_loop_through_a_function_that_submits_a_batch_is_already_batched():
    (call,) = calls(claude("""
    def send(shard):
        return client.messages.batches.create(requests=[{"custom_id": r.key, "params": {}} for r in shard])

    for shard in shards:
        ledger.record(send(shard).id)
    """))
    assert call.batched and not call.bulk and call.dismissed == ()

