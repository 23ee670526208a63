from bot.helper import run_batch


def build(row):
    return {"model": "claude-haiku-4-5", "max_tokens": 200, "messages": [{"role": "user", "content": row["text"]}]}


def nightly(partitions):
    for partition in partitions:
        result = run_batch(partition.rows, build, job=f"nightly-{partition.name}")
        partition.save(result.texts)
