import json
import time

import anthropic

client = anthropic.Anthropic()


def submit(rows):
    for start in range(0, len(rows), 10_000):
        part = rows[start:start + 10_000]
        batch = client.messages.batches.create(requests=[
            {"custom_id": row["sku"], "params": {"model": "claude-haiku-4-5", "max_tokens": 50,
                                                 "messages": [{"role": "user", "content": row["title"]}]}}
            for row in part])
        yield batch.id


def collect(batch_id, path):
    while client.messages.batches.retrieve(batch_id).processing_status != "ended":
        time.sleep(60)
    with open(path, "a") as out:
        for entry in client.messages.batches.results(batch_id):
            if entry.result.type == "succeeded":
                out.write(json.dumps({"id": entry.custom_id, "text": entry.result.message.content[0].text}) + "\n")
            else:
                out.write(json.dumps({"id": entry.custom_id, "failed": entry.result.type}) + "\n")
