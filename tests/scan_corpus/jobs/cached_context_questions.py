import anthropic

client = anthropic.Anthropic()


def answer_questions(manual: str, questions: list, db) -> None:
    system = [{"type": "text", "text": manual, "cache_control": {"type": "ephemeral"}}]
    for q in questions:
        reply = client.messages.create(model="claude-sonnet-4-5", max_tokens=700, system=system,
                                       messages=[{"role": "user", "content": q.text}])
        db.save_answer(q.id, reply.content[0].text)
