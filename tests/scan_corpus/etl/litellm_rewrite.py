import litellm

MODEL = "anthropic/claude-3-5-sonnet-20241022"


def rewrite_titles(titles):
    rewritten = {}
    for title in titles:
        resp = litellm.completion(model=MODEL, messages=[{"role": "user", "content": f"Make this title clearer: {title}"}])
        rewritten[title] = resp.choices[0].message.content
    return rewritten
