import anthropic

client = anthropic.Anthropic()
PROMPT = "Write a haiku about autumn."

for temperature in [0.0, 0.5, 1.0]:
    message = client.messages.create(model="claude-sonnet-4-5", max_tokens=100, temperature=temperature,
                                     messages=[{"role": "user", "content": PROMPT}])
    print(f"--- temperature={temperature}\n{message.content[0].text}")
