import json
import sys

import anthropic

client = anthropic.Anthropic()

with open(sys.argv[1]) as src, open(sys.argv[2], "w") as dst:
    for line in src:
        record = json.loads(line)
        reply = client.messages.create(model="claude-haiku-4-5", max_tokens=50,
                                       messages=[{"role": "user", "content": "Topic of: " + record["text"]}])
        record["topic"] = reply.content[0].text
        dst.write(json.dumps(record) + "\n")
