"""Which of batch-review's labels a repository lacks, and which differ from our style."""

from bot.core.names import LABEL_STYLES


def compare(existing: dict) -> list:
    """(label, "create" | "same" | "differs", its current (colour, description) or None) for each of ours."""
    found = {name.lower(): style for name, style in existing.items()}  # GitHub label names ignore case
    states = []
    for name, (color, description) in LABEL_STYLES.items():
        style = found.get(name.lower())
        state = "create" if style is None else "same" if (style[0].lower(), style[1]) == (color, description) else "differs"
        states.append((name, state, style))
    return states
