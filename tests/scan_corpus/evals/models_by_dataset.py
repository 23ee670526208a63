import json

import anthropic

client = anthropic.Anthropic()
MODELS = ("claude-haiku-4-5", "claude-sonnet-4-5")


def evaluate(dataset_path):
    examples = [json.loads(line) for line in open(dataset_path)]
    scores = {}
    for model in MODELS:
        correct = 0
        for example in examples:
            reply = client.messages.create(model=model, max_tokens=20,
                                           messages=[{"role": "user", "content": example["prompt"]}])
            correct += reply.content[0].text.strip() == example["answer"]
        scores[model] = correct / len(examples)
    json.dump(scores, open("scores.json", "w"))
