import time

import anthropic

client = anthropic.Anthropic()


def ask_with_retries(prompt):
    for attempt in range(5):
        try:
            return client.messages.create(model="claude-haiku-4-5", max_tokens=300,
                                          messages=[{"role": "user", "content": prompt}])
        except anthropic.APIStatusError:
            time.sleep(2 ** attempt)
    raise RuntimeError("Claude did not answer")
