from concurrent.futures import ThreadPoolExecutor

import anthropic
import pandas as pd

client = anthropic.Anthropic()
MODEL = "claude-sonnet-4-5"


def _ask(text: str) -> str:
    response = client.messages.create(model=MODEL, max_tokens=512,
                                      messages=[{"role": "user", "content": "Summarise:\n" + text}])
    return response.content[0].text


def summarise(article: dict) -> dict:
    return {"id": article["id"], "summary": _ask(article["text"])}


def main(csv_path: str) -> None:
    articles = pd.read_csv(csv_path).to_dict("records")
    with ThreadPoolExecutor(max_workers=16) as ex:
        results = list(ex.map(summarise, articles))
    pd.DataFrame(results).to_csv("summaries.csv", index=False)
