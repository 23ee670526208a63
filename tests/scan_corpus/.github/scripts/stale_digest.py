import anthropic
from github import Github

gh = Github()
client = anthropic.Anthropic()
repo = gh.get_repo("acme/widgets")

for issue in repo.get_issues(state="open"):
    summary = client.messages.create(model="claude-haiku-4-5", max_tokens=120,
                                     messages=[{"role": "user", "content": f"One line on: {issue.title}\n{issue.body}"}])
    issue.create_comment("Weekly digest: " + summary.content[0].text)
