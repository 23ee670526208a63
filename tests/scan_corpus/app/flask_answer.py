from anthropic import Anthropic
from flask import Flask, jsonify, request

app = Flask(__name__)
client = Anthropic()


@app.post("/answer")
def answer():
    question = request.json["question"]
    reply = client.messages.create(model="claude-sonnet-4-5", max_tokens=1000,
                                   messages=[{"role": "user", "content": question}])
    return jsonify(text=reply.content[0].text)
