import anthropic

client = anthropic.Anthropic()
EXAMPLES = {
    "summarise": "Summarise the plot of Hamlet in one line.",
    "translate": "Translate 'good morning' into Japanese.",
    "classify": "Is 'I loved it' positive or negative?",
    "extract": "Extract the date from 'Meet me on 3 May'.",
}

for task, prompt in EXAMPLES.items():
    out = client.messages.create(model="claude-haiku-4-5", max_tokens=100, messages=[{"role": "user", "content": prompt}])
    print(task, "->", out.content[0].text)
