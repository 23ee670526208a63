import concurrent.futures
import logging

import anthropic

log = logging.getLogger(__name__)
client = anthropic.Anthropic()


def translate(segment):
    out = client.messages.create(
        model="claude-haiku-4-5", max_tokens=1024,
        messages=[{"role": "user", "content": f"Translate to German:\n{segment['text']}"}])
    return segment["key"], out.content[0].text


def translate_catalogue(segments, store):
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as executor:
        futures = {executor.submit(translate, s): s["key"] for s in segments}
        for done in concurrent.futures.as_completed(futures):
            key, text = done.result()
            store.put(key, text)
            log.info("translated %s", key)
