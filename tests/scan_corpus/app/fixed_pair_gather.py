import asyncio

from anthropic import AsyncAnthropic

client = AsyncAnthropic()


async def ask(prompt):
    message = await client.messages.create(model="claude-haiku-4-5", max_tokens=200,
                                           messages=[{"role": "user", "content": prompt}])
    return message.content[0].text


async def pros_and_cons(idea):
    pros, cons = await asyncio.gather(ask(f"Pros of {idea}?"), ask(f"Cons of {idea}?"))
    return {"pros": pros, "cons": cons}
