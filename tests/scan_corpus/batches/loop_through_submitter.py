import anthropic

client = anthropic.Anthropic()


def send(shard):
    return client.messages.batches.create(requests=[
        {"custom_id": r["key"], "params": {"model": "claude-haiku-4-5", "max_tokens": 100,
                                           "messages": [{"role": "user", "content": r["text"]}]}}
        for r in shard])


def send_all(shards, ledger):
    for shard in shards:
        batch = send(shard)
        ledger.record(batch.id)
