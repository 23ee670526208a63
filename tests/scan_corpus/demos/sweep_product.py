import itertools

import anthropic

client = anthropic.Anthropic()
TEMPERATURES = (0.2, 0.8)
SYSTEMS = ("You are terse.", "You are friendly.", "You are a pirate.")

for temperature, system in itertools.product(TEMPERATURES, SYSTEMS):
    r = client.messages.create(model="claude-haiku-4-5", max_tokens=60, temperature=temperature, system=system,
                               messages=[{"role": "user", "content": "Greet me."}])
    print(temperature, system, r.content[0].text)
