from anthropic import Anthropic

client = Anthropic()
MODELS = ("claude-haiku-4-5", "claude-sonnet-4-5", "claude-opus-4-1")
QUESTION = "Explain a hash map to a ten-year-old."


def main():
    for name in MODELS:
        answer = client.messages.create(model=name, max_tokens=300, messages=[{"role": "user", "content": QUESTION}])
        print(name, answer.usage.output_tokens, answer.content[0].text[:200])


main()
