import anthropic

from .tools import SCHEMAS, call_tool

client = anthropic.Anthropic()


def run_agent(question: str, max_turns: int = 12) -> str:
    history = [{"role": "user", "content": question}]
    while True:
        msg = client.messages.create(model="claude-sonnet-4-5", max_tokens=4096, tools=SCHEMAS, messages=history)
        history.append({"role": "assistant", "content": msg.content})
        if msg.stop_reason != "tool_use":
            return "".join(b.text for b in msg.content if b.type == "text")
        outputs = []
        for block in msg.content:
            if block.type == "tool_use":
                outputs.append({"type": "tool_result", "tool_use_id": block.id, "content": call_tool(block)})
        history.append({"role": "user", "content": outputs})


def answer_backlog(questions):
    return [run_agent(q) for q in questions]
