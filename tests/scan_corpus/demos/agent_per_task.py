import json

import anthropic

from tools import TOOLS, run_tool

client = anthropic.Anthropic()


def solve_all(tasks):
    answers = {}
    for task in tasks:
        messages = [{"role": "user", "content": task.prompt}]
        response = client.messages.create(model="claude-sonnet-4-5", max_tokens=2048, tools=TOOLS, messages=messages)
        while response.stop_reason == "tool_use":
            messages.append({"role": "assistant", "content": response.content})
            results = [{"type": "tool_result", "tool_use_id": b.id, "content": json.dumps(run_tool(b.name, b.input))}
                       for b in response.content if b.type == "tool_use"]
            messages.append({"role": "user", "content": results})
            response = client.messages.create(model="claude-sonnet-4-5", max_tokens=2048, tools=TOOLS,
                                              messages=messages)
        answers[task.id] = response.content[-1].text
    return answers
