"""Simulate a customer talking to the support bot for a scripted set of turns."""
import anthropic

client = anthropic.Anthropic()
CUSTOMER_TURNS = open("script.txt").read().splitlines()


def simulate():
    conversation = []
    for said in CUSTOMER_TURNS:
        conversation.append({"role": "user", "content": said})
        reply = client.messages.create(model="claude-haiku-4-5", max_tokens=400, system="You are a support agent.",
                                       messages=conversation)
        conversation.append({"role": "assistant", "content": reply.content[0].text})
        print("BOT:", reply.content[0].text)
    return conversation
