import asyncio

from anthropic import AsyncAnthropic

api = AsyncAnthropic()


async def tag(post, sink):
    result = await api.messages.create(model="claude-haiku-4-5", max_tokens=30,
                                       messages=[{"role": "user", "content": "Three tags for: " + post.title}])
    await sink.save(post.id, result.content[0].text)


async def tag_feed(feed, sink):
    async with asyncio.TaskGroup() as tg:
        for post in await feed.all_posts():
            tg.create_task(tag(post, sink))
