"""Every name and sentence users see, in one place: questions, labels, verdicts, markers."""

from enum import Enum

QUESTION_IDS = ("human_waiting", "volume", "latency")

QUESTIONS = {
    "human_waiting": "Is a human (or a downstream synchronous system) waiting on the result?",
    "volume": "Is the volume above a few hundred requests a day?",
    "latency": "Is the result needed within minutes?",
}

# Short names for tables and Mermaid nodes.
QUESTION_TITLES = {
    "human_waiting": "Someone waiting",
    "volume": "Volume",
    "latency": "Needed within minutes",
}

# The answer that ends the flowchart at SYNCHRONOUS, and why, per question.
SYNC_ANSWER = {"human_waiting": "yes", "volume": "no", "latency": "yes"}
SYNC_REASONS = {
    "human_waiting": "someone is waiting",
    "volume": "too little volume to be worth batching",
    "latency": "needed within minutes",
}

# Visible option text in the checklist templates; teams may reword it, the markers stay.
OPTIONS = {
    ("human_waiting", "yes"): "Yes: a person or a synchronous system waits for the result",
    ("human_waiting", "no"): "No: nothing waits on it (jobs, pipelines, reports, evals)",
    ("volume", "yes"): "Yes: more than a few hundred requests a day",
    ("volume", "no"): "No: a few hundred a day or fewer",
    ("latency", "yes"): "Yes: the result is needed within minutes",
    ("latency", "no"): "No: within hours is fine (batches finish within 24 h, most within 1 h)",
}
VOLUME_FIELD = "Expected requests per day:"

COMMENT_MARKER = "<!-- batch-review -->"
# Machine-readable state in the bot's own comment (the Action's memory): `<!-- batch-review: state {json} -->`.
STATE_MARKER = "<!-- batch-review: state "
CHECKLIST_MARKER = "<!-- batch-review: checklist -->"
VOLUME_MARKER = "<!-- batch-review: volume_per_day -->"


def option_marker(question: str, value: str) -> str:
    return f"<!-- batch-review: {question}={value} -->"


class Verdict(str, Enum):
    BATCH_CANDIDATE = "batch-candidate"
    SYNCHRONOUS = "synchronous"
    NEEDS_ANSWERS = "needs-answers"
    NOT_APPLICABLE = "not-applicable"


# Most actionable first: the PR's verdict is the first of these among its workloads.
VERDICT_PRIORITY = (Verdict.BATCH_CANDIDATE, Verdict.NEEDS_ANSWERS, Verdict.SYNCHRONOUS)

HEADLINES = {
    Verdict.BATCH_CANDIDATE: "Batch candidate",
    Verdict.SYNCHRONOUS: "Synchronous is fine",
    Verdict.NEEDS_ANSWERS: "Needs answers",
    Verdict.NOT_APPLICABLE: "No Claude workload",
}

# Why a decided verdict is what it is (the comment and the terminal).
WHY = {
    Verdict.BATCH_CANDIDATE: "Nothing waits on the result, it runs more than {threshold:g} requests a day and it can "
                             "wait hours: the Message Batches API runs it at half the price, with results within 24 hours.",
    Verdict.SYNCHRONOUS: "Synchronous calls are right here: {reason}.",
}
NOTHING_TO_CHANGE = ("Nothing to change. A reviewer who disagrees sets the answer with a label; "
                     "reviewer labels beat the checklist.")

# What `batch-review check` and `scan` print in a terminal (bot/core/terminal.py), besides the above.
TERMINAL = {
    "not-applicable": "Nothing to decide: no checklist box is ticked, no volume is written and no answer label "
                      "was given (--label).",
    "depends": "The verdict still depends on: {questions}",
    "workloads": "{count} workloads; the verdict above is the most actionable of them.",
    "hints": "Why this looks like a Claude workload:",
    "path": "Path: {path}",
    "waiting": "waiting for answers",
    "next-batch-candidate": "Next step: flag it in design review and submit the work through the shared run_batch "
                            "helper, which saves every result before it expires: {helper}",
    "next-needs-answers": "To answer: tick one box per question in the batch-review checklist of {where}, or, as a "
                          "reviewer, add a label:",
    "conflict": "Contradicting answers to \"{question}\": {detail}. Keep one.",
    "author-labels": "Answer labels applied by the PR's author are not counted (label_answers_from: reviewers): {labels}.",
    "norm": "The norm: {handbook}",
    "scan-total": "{calls} to Claude in {files}: {bulk} synchronous with bulk signals, {batched} already batched.",
    "config-read": "Configuration{repo} from: {files}",
    "config-none": "Configuration{repo}: no settings file, so every value is the default.",
    "config-problems": "Problems:",
    "config-local": "Reviews also read the organisation's .github repository (unless `_extends: false`) and follow "
                    "`_extends`; `batch-review config show --repo OWNER/NAME` shows that lookup.",
    "scan-hygiene": " {findings} in code already on batches.",
    "hygiene": "{where}  batch hygiene ({rule}): {message}",
}

# `batch-review scan --format sarif`: one code scanning rule per bulk signal (bot/core/sarif.py).
# signal id -> (rule name, short description, help); the help ends with the handbook's norm.
SIGNAL_RULES = {
    "loop": ("ClaudeCallInLoop", "A synchronous call to Claude inside a loop",
             "This call to Claude runs once per item of a loop."),
    "comprehension": ("ClaudeCallPerItem", "A synchronous call to Claude for every item of a collection",
                      "This call to Claude runs for every item of a comprehension, map() or .apply()."),
    "thread-pool-map": ("ClaudeCallInPool", "Synchronous calls to Claude fanned out over a pool",
                        "This call to Claude is mapped over a thread or process pool (or a LangChain .batch)."),
    "executor-submit": ("ClaudeCallSubmittedPerItem", "Synchronous calls to Claude submitted to a pool per item",
                        "This call to Claude is submitted to a thread or process pool once per item of a collection."),
    "async-fan-out": ("ClaudeCallFannedOut", "Concurrent calls to Claude over a collection",
                      "This call to Claude runs concurrently for every item of a collection (asyncio.gather, a "
                      "TaskGroup, tasks)."),
    "scheduled-job": ("ClaudeCallInScheduledJob", "A synchronous call to Claude in a scheduled job",
                      "This call to Claude runs in a scheduled or offline job (by its path, a scheduler, or a "
                      "workflow's schedule)."),
}
SIGNAL_HELP = ("If no human or downstream system is blocked waiting on the result within minutes, it is a batch "
               "candidate: the Message Batches API runs it at half the price, with results within 24 hours "
               "(most within an hour). Submit it through the shared run_batch helper, which keeps every result.")
SIGNAL_RESULT = "{api} {evidence}; if nothing waits on it, this is a batch candidate."


def plural(count: int, noun: str, nouns: str = "") -> str:
    """"1 call", "2 calls"; `nouns` when the plural is not noun + s."""
    return f"{count:,} {noun if count == 1 else nouns or noun + 's'}"


# Answer labels: label -> (question, value).
ANSWER_LABELS = {
    "batch/human-waiting": ("human_waiting", "yes"),
    "batch/no-human-waiting": ("human_waiting", "no"),
    "batch/high-volume": ("volume", "yes"),
    "batch/low-volume": ("volume", "no"),
    "batch/within-minutes": ("latency", "yes"),
    "batch/can-wait": ("latency", "no"),
}
LABEL_FOR_ANSWER = {answer: label for label, answer in ANSWER_LABELS.items()}

VERDICT_LABELS = {
    Verdict.BATCH_CANDIDATE: "batch/candidate",
    Verdict.SYNCHRONOUS: "batch/sync-ok",
    Verdict.NEEDS_ANSWERS: "batch/needs-answers",
}
ADOPTED_LABEL = "batch/adopted"
EXEMPT_LABEL = "batch/exempt"  # replaces the verdict label while an exemption runs

# Colour and description of every label the bot creates.
LABEL_STYLES = {
    "batch/human-waiting": ("d93f0b", "batch-review: someone waits on the result"),
    "batch/no-human-waiting": ("0e8a16", "batch-review: nothing waits on the result"),
    "batch/high-volume": ("0e8a16", "batch-review: more than a few hundred requests a day"),
    "batch/low-volume": ("d93f0b", "batch-review: a few hundred requests a day or fewer"),
    "batch/within-minutes": ("d93f0b", "batch-review: result needed within minutes"),
    "batch/can-wait": ("0e8a16", "batch-review: result can wait hours"),
    "batch/candidate": ("1d76db", "batch-review: run this workload through the Message Batches API"),
    "batch/sync-ok": ("c5def5", "batch-review: synchronous calls are right here"),
    "batch/needs-answers": ("fbca04", "batch-review: answer the three batch questions"),
    "batch/adopted": ("5319e7", "batch-review: this workload moved to batches"),
    "batch/exempt": ("bfd4f2", "batch-review: exempted for a while, by a maintainer"),
}

DISTRIBUTION = "batch-review"  # on PyPI, and the command
ACTION_REPO = "batch-review/batch-review"  # the Action's repository: `uses: batch-review/batch-review@v1`
CONFIG_PATH = ".github/batch-review.yml"
ONBOARDING_TITLE = "Set up batch-review"  # the App's onboarding pull request (`onboarding: pull-request`)
ONBOARDING_BRANCH = "batch-review/setup"  # its branch, by which the App finds it again
ONBOARDING_COMMIT = "batch-review: {what} {path}"  # one commit per file on the branch
COMMAND = "/batch-review"
COMMAND_FROM = ("OWNER", "MEMBER", "COLLABORATOR")  # the author_association values a command counts from
# `/batch-review answer human_waiting=no volume=2000 latency=no`, or the visible words below (bot/core/commands.py).
ANSWER_VERB = "answer"
ANSWER_WORDS = {
    "someone waits": ("human_waiting", "yes"),
    "nobody waits": ("human_waiting", "no"),
    "high volume": ("volume", "yes"),
    "low volume": ("volume", "no"),
    "within minutes": ("latency", "yes"),
    "can wait": ("latency", "no"),
}
EXEMPT_VERB = "exempt"  # `/batch-review exempt until 2027-03-31: reason`, from an owner, member or collaborator
EXEMPTION_NOTES = {
    "active": "Exempted by {by} until {until}: {reason}. `fail_on` does not fail it; the verdict stands.",
    "lapsed": "The exemption by {by} ended on {until}: the verdict counts again.",
    "too-long": "The exemption by {by} until {until} is longer than exemptions.max_days ({days} days) allows: "
                "it is not taken; pick an earlier date.",
}
EXPIRED_TITLE = "Exemption expired: {workload}"  # the App's issue, one per workload, updated by each later lapse
EXPIRED_MARKER = "<!-- batch-review: exemption-expired {workload} -->"
EXPIRED_BODY = ("The exemption of {workload} in this repository ended on {until} ({reason}). It was asked for by "
                "{people}.\n\nPull requests that change it get their verdict label again, and `fail_on` counts again. "
                "To move the work to the Message Batches API, see the batch-review handbook; to exempt it again, an "
                "owner, member or collaborator writes `/batch-review exempt until YYYY-MM-DD: reason` on a pull "
                "request that changes it.")
EXEMPTION_INHERITED = "It was given on #{number} for a workload this pull request changes:"  # then the path
WRONG_VERB = "wrong"  # `/batch-review wrong: reason`, from anyone on the PR
WRONG_THANKS = ("Thank you, {by}: you said this review is wrong ({reason}). It is recorded with the verdict and "
                "signals it disagreed with, so batch-review's false alarms are counted, and batch-review asks "
                "nothing more on this pull request.")
# Answer sources: a reviewer's command counts as a label does, the author's as the checklist does.
COMMAND_SOURCES = {"reviewer": "reviewer-command", "author": "author-command"}
# The App's check run buttons for the next question that decides the verdict: (question, value) ->
# (label, description). GitHub takes at most three `actions`, a label of 20 characters, a description
# of 40 and an identifier of 20 ("human_waiting=no"); bot/core/buttons.py makes them.
BUTTONS = {
    ("human_waiting", "yes"): ("Someone waits", "A person or system waits on the result"),
    ("human_waiting", "no"): ("Nobody waits", "Jobs, pipelines, reports or evals"),
    ("volume", "yes"): ("High volume", "Over a few hundred requests a day"),
    ("volume", "no"): ("Low volume", "A few hundred requests a day or fewer"),
    ("latency", "yes"): ("Within minutes", "The result is needed within minutes"),
    ("latency", "no"): ("Can wait", "Within hours is fine"),
}
# A click counts as the checklist (the author) or a label (someone with one of these repository roles) does.
BUTTON_SOURCES = {"reviewer": "reviewer-button", "author": "author-button"}
REVIEWER_ROLES = ("admin", "maintain", "write", "triage")  # role_name of GET .../collaborators/{login}/permission
# How a `/batch-review` comment was taken (bot/core/commands.py: judge) and the reaction it gets; a command
# from someone who may not give it gets no reaction but one reply per person (REPLIES).
REACTIONS = {"taken": "+1", "not-understood": "confused"}
# Our replies carry `<!-- batch-review: reply {kind} {login} -->`: found again in the comments, never sent twice.
REPLY_MARKER = "<!-- batch-review: reply "
# Every form a command takes, for the reply to one that was not understood.
ACCEPTED_FORMS = (
    "`/batch-review answer human_waiting=no volume=2000 latency=no`: any of the three, `yes` or `no` "
    "(`volume` also takes the requests a day: `2000`, `2k`)",
    "`/batch-review " + "`, `".join(ANSWER_WORDS) + "`: the same answers in words, several at once",
    "`/batch-review wrong: why`: the review is wrong (anyone)",
    "`/batch-review exempt until 2027-03-31: why`: an exemption (owners, members and collaborators)",
    "`/batch-review` alone: review again",
)
# What a reply calls the command it answers: a comment, or a click on the App's check run button.
REPLY_SUBJECTS = {"comment": "your command", "button": "your click on the check run's button"}
# {who} is the commenter's @login (the one person a reply mentions), {subject} a link named by REPLY_SUBJECTS.
REPLIES = {
    "not-allowed": "{who}: batch-review takes answers, exemptions and re-runs only from the pull request's "
                   "author and from the repository's owners, members and collaborators, so {subject} does not "
                   "count. Ask one of them to answer, or write `/batch-review wrong: why` if you think the review "
                   "is wrong.",
    "not-understood": "{who}: batch-review did not understand {subject}. Write one of these on a comment's first "
                      "line:\n\n{forms}",
}

# What the Action says in the job log (as `::notice`/`::warning`), by occasion.
ACTION_NOTES = {
    "unhandled-event": "batch-review reviews pull_request, pull_request_target and issue_comment events; "
                       "there is nothing to do for {event}.",
    "other-label": "The label {label} is not an answer label: nothing to re-evaluate.",
    "not-a-command": "Not a /batch-review command from the author, an owner, member or collaborator: nothing to do.",
    "own-event": "This event was sent by batch-review's own identity ({login}): nothing to do.",
    "not-found": "The pull request or one of its files is gone ({detail}): nothing to review.",
    "read-only": "The token cannot write to this pull request (a fork's read-only token?): the verdict is in "
                 "the job summary, which explains the pull_request_target set-up.",
    "github-error": "batch-review could not finish because of a GitHub error ({detail}); the job does not fail for it.",
    "no-token": "No GITHUB_TOKEN: pass the action's github-token input (its default is the job's token).",
    "bad-event": "Cannot read the event payload from GITHUB_EVENT_PATH ({detail}).",
    "bad-fail-on": "The fail-on input {value!r} is not a list of {allowed}; it is ignored and the config's fail_on applies.",
    "failed": "The verdict {verdict} is in fail-on, so this job fails.",
    "internal-error": "batch-review stopped on an error of its own ({detail}); the job does not fail for it. "
                      "Please report it with the log above.",
}
# What a review says about Claude's suggestions (workload notes), by occasion.
INFERENCE_NOTES = {
    "no-key": "Claude can suggest these answers from the PR's text, with quotes: give batch-review an Anthropic "
              "API key (the Action's anthropic-api-key input, or ANTHROPIC_API_KEY where the App runs). "
              "Setting inference.enabled: false turns this note off.",
    "fork": "Claude suggests no answers on pull requests from forks (setting inference.forks).",
    "error": "Claude's suggestions are not available this time ({detail}); the review is complete without them.",
    "pr-budget": "Claude suggests no more answers here: this pull request has used its {budget:,} tokens "
                 "(setting inference.pr_token_budget).",
    "monthly-budget": "Claude suggests no more answers in {repo} this month: it has used its {budget:,} tokens "
                      "(setting inference.monthly_token_budget).",
    "malformed": "Claude's reply did not follow the answer format, so it suggests nothing this time.",
    "unquoted": "Claude's suggestion for {questions} is left out: its quote is not in the text.",
    "cut": "Claude read only the first {kept:,} of {total:,} characters of {source}.",
}
# What the CLI says about an input file it reads (bot/core/textfile.py).
INPUT_NOTES = {
    "binary": "{name} is a binary file, not text; give the Markdown or source file itself.",
    "invalid": "{name} is not valid {codec} (the first bad byte is at offset {offset}); "
               "the bytes that do not decode are read as \ufffd.",
}
# Commands that only read the App's database (report, dashboard, app requeue) never create it.
NO_DATABASE = "no batch-review database at {url}; run this where the App runs or set DATABASE_URL"
CHECK_RUN = "batch-review"  # the App's check run on a PR's head SHA (and a merge group's)
# The merge group check's title and summary: the review happened on each pull request.
MERGE_GROUP_CHECK = ("Reviewed on the pull requests",
                     "batch-review reviews each pull request before it joins the merge queue; "
                     "the merge group has nothing more to wait for.")
SCHEMA_VERSION = 2  # of the review JSON; its changelog is in bot/schemas/review.schema.json
SCAN_SCHEMA_VERSION = 2  # of `batch-review scan --format json`; its changelog is in bot/schemas/scan.schema.json

PROJECT_URL = "https://github.com/batch-review/batch-review"
HANDBOOK_URL = f"{PROJECT_URL}/blob/main/handbook/README.md#the-norm"
HELPER_URL = f"{PROJECT_URL}/blob/main/handbook/helper.md"

# The adoption metric: the monthly report (an issue found again by its hidden marker), the trend's
# movement, and why the dashboard refuses a request.
METRIC_HEADLINE = "Share of eligible token volume through batches"
REPORT_TITLE = "batch-review: batch share for {month}"
REPORT_MARKER = "<!-- batch-review: report {month} -->"
MOVEMENT = {
    "up": "Up {points:.1f} points from {before} ({before_share} to {after_share}): more eligible work runs "
          "through batches. Celebrate the workloads that moved.",
    "down": "Down {points:.1f} points from {before} ({before_share} to {after_share}): see which repositories "
            "carry the most eligible synchronous volume below.",
    "steady": "Steady at {after_share} ({before}: {before_share}).",
}
DASHBOARD_REFUSALS = {
    "off": "The dashboard is off: set DASHBOARD_TOKEN where the App runs, then send it as "
           "`Authorization: Bearer <token>` or sign in at /dashboard/login (or serve it locally with "
           "`batch-review dashboard`).",
    "token": "Send the dashboard token (DASHBOARD_TOKEN) as `Authorization: Bearer <token>`, or sign in at "
             "/dashboard/login.",
    "query": "The dashboard takes no `?token=`: addresses end up in access logs. Send the token as "
             "`Authorization: Bearer <token>`, or sign in at /dashboard/login.",
}

# What a workload costs a month (bot/core/cost.py): the figure, and its basis one input at a time.
COST_VOLUME = {"about": "about {per_day:,.0f}", "at-least": "more than {per_day:,.0f}"}
COST_QUALIFIER = {"about": "about ", "at-least": "at least "}  # of the figures; a saving is "at least" or plain
COST_FIGURE = ("At {volume} requests a day on `{model}` this costs {qualifier}{sync} a month synchronously, "
               "{batch} through batches: {difference}.")
COST_DIFFERENCE = {True: "{qualifier}{saving} a month saved", False: "a difference of {qualifier}{saving} a month"}
COST_UNPRICED = ("At {volume} requests a day on `{model}`: batch-review has no price for this model; "
                 "set `cost.prices` to see what it costs.")
COST_BASIS = {
    "volume": "{per_day:,.0f} requests a day, as answered",
    "at-least": "the volume is only known to be above `volume_threshold`, so it is costed at {per_day:,.0f} "
                "requests a day: a lower bound",
    "input": "assumes {tokens:,} input tokens a request; set `cost.input_tokens`",
    "input-set": "{tokens:,} input tokens a request (`cost.input_tokens`)",
    "output": "assumes {tokens:,} output tokens a request; set `cost.output_tokens`",
    "output-set": "{tokens:,} output tokens a request (`cost.output_tokens`)",
    "max-tokens": "at most {tokens:,} output tokens a request: the `max_tokens` at `{at}`, an upper bound",
    "model": "assumes `{model}`, the default, as no model was read at the call site; set `cost.model`",
    "model-set": "`{model}` from `cost.model`, as no model was read at the call site",
    "model-read": "`{model}`, read at `{at}`",
    "price": "`{model}` at ${input:g} / ${output:g} per million input / output tokens, Anthropic's price read on "
             "{read} ({page}); batches cost half",
    "price-set": "`{model}` at ${input:g} / ${output:g} per million input / output tokens from `cost.prices`; "
                 "batches cost half",
    "unpriced": "no price is known for `{model}`: add it to `cost.prices`, e.g. `{model}: {{input: 3, output: 15}}`",
}
COST_NOTE = ("A month is {days} days; thinking tokens count as output tokens; prompt caching, which lowers both "
             "figures, is not counted.")
