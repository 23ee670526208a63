import anthropic

client = anthropic.Anthropic()
MAX_TURNS = 25


def research(topic, tools, execute):
    messages = [{"role": "user", "content": f"Research {topic} and report."}]
    for turn in range(MAX_TURNS):
        response = client.messages.create(model="claude-opus-4-1", max_tokens=4000, tools=tools, messages=messages)
        messages.append({"role": "assistant", "content": response.content})
        if response.stop_reason == "end_turn":
            break
        messages.append({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": b.id, "content": execute(b)} for b in response.content
            if b.type == "tool_use"]})
    return messages[-1]
