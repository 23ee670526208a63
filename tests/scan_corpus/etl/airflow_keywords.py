from datetime import datetime

import anthropic
from airflow.decorators import dag, task


@dag(schedule="@daily", start_date=datetime(2026, 1, 1), catchup=False)
def keywords():
    @task
    def extract(records):
        client = anthropic.Anthropic()
        out = []
        for record in records:
            reply = client.messages.create(model="claude-haiku-4-5", max_tokens=100,
                                           messages=[{"role": "user", "content": record["abstract"]}])
            out.append({"id": record["id"], "keywords": reply.content[0].text})
        return out

    extract(load())


keywords()
