from anthropic import AsyncAnthropic

client = AsyncAnthropic()


async def on_message(websocket, payload):
    async with client.messages.stream(model="claude-haiku-4-5", max_tokens=800,
                                      messages=payload["messages"]) as stream:
        async for chunk in stream.text_stream:
            await websocket.send(chunk)
