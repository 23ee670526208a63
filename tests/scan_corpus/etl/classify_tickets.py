import json

from anthropic import Anthropic

LABELS = ["billing", "bug", "feature", "other"]
client = Anthropic()


def label(ticket: dict) -> str:
    prompt = f"Label this support ticket as one of {LABELS}. Answer with the label only.\n\n{ticket['body']}"
    msg = client.messages.create(model="claude-3-5-haiku-latest", max_tokens=10,
                                 messages=[{"role": "user", "content": prompt}])
    return msg.content[0].text.strip()


def run(path_in: str, path_out: str) -> None:
    with open(path_in) as source:
        tickets = [json.loads(line) for line in source]
    labelled = [{**t, "label": label(t)} for t in tickets]
    with open(path_out, "w") as sink:
        for row in labelled:
            sink.write(json.dumps(row) + "\n")
