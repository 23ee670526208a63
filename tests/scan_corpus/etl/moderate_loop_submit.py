from concurrent.futures import ThreadPoolExecutor, wait

from anthropic import Anthropic

claude = Anthropic()


def moderate(comment_id, text, results):
    verdict = claude.messages.create(model="claude-haiku-4-5", max_tokens=5, system="Reply SAFE or UNSAFE.",
                                     messages=[{"role": "user", "content": text}])
    results[comment_id] = verdict.content[0].text


def moderate_all(comments):
    results = {}
    pool = ThreadPoolExecutor(4)
    pending = []
    for comment in comments:
        pending.append(pool.submit(moderate, comment.id, comment.text, results))
    wait(pending)
    return results
