from anthropic import Anthropic

client = Anthropic()


def refine(topic: str, rounds: list) -> str:
    essay = client.messages.create(model="claude-sonnet-4-5", max_tokens=2000,
                                   messages=[{"role": "user", "content": f"Write an essay on {topic}"}]).content[0].text
    for critique in rounds:
        prompt = f"Improve this essay with the note '{critique}':\n\n{essay}"
        result = client.messages.create(model="claude-sonnet-4-5", max_tokens=2000,
                                        messages=[{"role": "user", "content": prompt}])
        essay = result.content[0].text
    return essay
