"""Build PR descriptions and design docs from our own templates, filled in as authors fill them."""

from bot.core.names import VOLUME_MARKER, option_marker
from tests.conftest import ROOT

PR_TEMPLATE = (ROOT / "templates" / "pull_request_template.md").read_text()
DOC_TEMPLATE = (ROOT / "templates" / "design_doc.md").read_text()


def filled(template: str = PR_TEMPLATE, volume_text: str = "", **answers) -> str:
    """The template with one box ticked per answer given (e.g. human_waiting="no")."""
    lines = []
    for line in template.splitlines():
        for question, value in answers.items():
            if option_marker(question, value) in line:
                line = line.replace("[ ]", "[x]", 1)
        if volume_text and VOLUME_MARKER in line:
            line = line.replace(f": {VOLUME_MARKER}", f": {volume_text} {VOLUME_MARKER}")
        lines.append(line)
    return "Adds a nightly job.\n\n" + "\n".join(lines)


CANDIDATE = filled(human_waiting="no", volume="yes", latency="no")
SYNCHRONOUS = filled(human_waiting="yes")
PARTIAL = filled(human_waiting="no")
