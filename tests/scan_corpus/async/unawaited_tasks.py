import asyncio

from anthropic import AsyncAnthropic

client = AsyncAnthropic()


async def describe(image_url):
    response = await client.messages.create(
        model="claude-sonnet-4-5", max_tokens=200,
        messages=[{"role": "user", "content": [{"type": "image", "source": {"type": "url", "url": image_url}},
                                               {"type": "text", "text": "Alt text for this image."}]}])
    return response.content[0].text


async def describe_catalogue(urls):
    tasks = []
    for url in urls:
        tasks.append(describe(url))
    return dict(zip(urls, await asyncio.gather(*tasks)))
