import asyncio
import json

import anthropic

client = anthropic.AsyncAnthropic()
limit = asyncio.Semaphore(10)


async def grade(answer: dict) -> dict:
    async with limit:
        reply = await client.messages.create(
            model="claude-sonnet-4-5", max_tokens=50,
            messages=[{"role": "user", "content": f"Grade 1-5:\n{answer['text']}"}])
    return {"id": answer["id"], "grade": reply.content[0].text}


async def grade_file(path: str) -> None:
    answers = [json.loads(line) for line in open(path)]
    graded = []
    for start in range(0, len(answers), 200):
        chunk = answers[start:start + 200]
        graded += await asyncio.gather(*(grade(a) for a in chunk))
    with open(path + ".graded", "w") as out:
        json.dump(graded, out)
