import anthropic

client = anthropic.Anthropic()


def self_consistency(question):
    votes = [client.messages.create(model="claude-sonnet-4-5", max_tokens=50, temperature=1.0,
                                    messages=[{"role": "user", "content": question}]).content[0].text
             for _ in range(5)]
    return max(set(votes), key=votes.count)
