import sys

import anthropic


def main() -> None:
    text = open(sys.argv[1]).read()
    client = anthropic.Anthropic()
    summary = client.messages.create(model="claude-sonnet-4-5", max_tokens=1000,
                                     messages=[{"role": "user", "content": f"Summarise this meeting:\n{text}"}])
    print(summary.content[0].text)


if __name__ == "__main__":
    main()
