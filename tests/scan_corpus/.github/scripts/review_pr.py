"""Ask Claude to review each changed file of the pull request and post the notes."""
import os
import subprocess

import anthropic

client = anthropic.Anthropic()


def changed_files():
    out = subprocess.run(["git", "diff", "--name-only", "origin/main...HEAD"], capture_output=True, text=True)
    return [name for name in out.stdout.split() if name.endswith(".py")]


def main():
    notes = []
    for name in changed_files():
        reply = client.messages.create(model="claude-sonnet-4-5", max_tokens=800,
                                       messages=[{"role": "user", "content": "Review:\n" + open(name).read()}])
        notes.append(f"### {name}\n{reply.content[0].text}")
    with open(os.environ["GITHUB_STEP_SUMMARY"], "a") as summary:
        summary.write("\n\n".join(notes))


main()
