import time

from anthropic import Anthropic

client = Anthropic()


def time_to_first_token(prompts):
    results = []
    for prompt in prompts:
        t0 = time.monotonic()
        with client.messages.stream(model="claude-sonnet-4-5", max_tokens=200,
                                    messages=[{"role": "user", "content": prompt}]) as stream:
            for _ in stream.text_stream:
                results.append(time.monotonic() - t0)
                break
    return results
