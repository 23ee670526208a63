import anthropic

client = anthropic.Anthropic()
history = []

while True:
    line = input("you> ")
    if not line:
        break
    history.append({"role": "user", "content": line})
    with client.messages.stream(model="claude-sonnet-4-5", max_tokens=1024, messages=history) as stream:
        text = "".join(stream.text_stream)
    print(text)
    history.append({"role": "assistant", "content": text})
