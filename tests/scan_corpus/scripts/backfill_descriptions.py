import anthropic

from catalog import Repo

client = anthropic.Anthropic()


def backfill(repo: Repo, page_size: int = 500) -> None:
    cursor = None
    while (page := repo.page(after=cursor, size=page_size)):
        for item in page:
            text = client.messages.create(model="claude-haiku-4-5", max_tokens=200,
                                          messages=[{"role": "user", "content": item.raw}]).content[0].text
            repo.set_description(item.id, text)
        cursor = page[-1].id
