import anthropic

client = anthropic.Anthropic()


def classify(texts):
    batch = client.messages.batches.create(requests=[
        {"custom_id": f"row-{i}", "params": {"model": "claude-haiku-4-5", "max_tokens": 5,
                                             "messages": [{"role": "user", "content": t}]}}
        for i, t in enumerate(texts)])
    while client.messages.batches.retrieve(batch.id).processing_status != "ended":
        pass
    labels = {}
    for result in client.messages.batches.results(batch.id):
        if result.result.type == "succeeded":
            labels[result.custom_id] = result.result.message.content[0].text
    print(len(labels), "labelled")
