import asyncio

from anthropic import AsyncAnthropic

client = AsyncAnthropic()


async def extract_entities(doc: str) -> str:
    message = await client.messages.create(
        model="claude-haiku-4-5", max_tokens=400,
        messages=[{"role": "user", "content": f"List the people and companies in:\n{doc}"}])
    return message.content[0].text


async def main(docs: list) -> list:
    return await asyncio.gather(*[extract_entities(d) for d in docs])


if __name__ == "__main__":
    import sys
    print(asyncio.run(main(open(sys.argv[1]).read().split("\n\n"))))
