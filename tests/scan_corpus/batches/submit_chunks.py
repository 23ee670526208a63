import json

import anthropic
from anthropic.types.message_create_params import MessageCreateParamsNonStreaming
from anthropic.types.messages.batch_create_params import Request

client = anthropic.Anthropic()
CHUNK = 50_000


def submit(docs):
    ids = []
    for start in range(0, len(docs), CHUNK):
        requests = [Request(custom_id=doc["id"], params=MessageCreateParamsNonStreaming(
            model="claude-haiku-4-5", max_tokens=300, messages=[{"role": "user", "content": doc["text"]}]))
            for doc in docs[start:start + CHUNK]]
        ids.append(client.messages.batches.create(requests=requests).id)
    json.dump(ids, open("batch_ids.json", "w"))
