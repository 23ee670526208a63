import json
import os

from anthropic import Anthropic

event = json.load(open(os.environ["GITHUB_EVENT_PATH"]))
client = Anthropic()
labels = [label["name"] for label in event["repository"].get("labels", [])]
for comment in event.get("comments", []):
    reply = client.messages.create(model="claude-haiku-4-5", max_tokens=20,
                                   messages=[{"role": "user", "content": f"Pick from {labels}: {comment['body']}"}])
    print(reply.content[0].text)
