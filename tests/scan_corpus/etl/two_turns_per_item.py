from anthropic import Anthropic

client = Anthropic()


def draft_and_shorten(briefs):
    out = []
    for brief in briefs:
        messages = [{"role": "user", "content": f"Draft a release note: {brief}"}]
        first = client.messages.create(model="claude-sonnet-4-5", max_tokens=600, messages=messages)
        messages.append({"role": "assistant", "content": first.content})
        messages.append({"role": "user", "content": "Now shorten it to one sentence."})
        second = client.messages.create(model="claude-sonnet-4-5", max_tokens=100, messages=messages)
        out.append(second.content[0].text)
    return out
