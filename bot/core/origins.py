"""Where each setting of a resolved configuration came from (pure): `config show`."""

from dataclasses import dataclass, fields, is_dataclass
from typing import Callable, Optional

from bot.core.config import Config, ConfigError, from_mapping, parse_mapping, resolve

SCHEMA_VERSION = 1  # of this document (bot/schemas/config.schema.json)
DEFAULT_ORIGIN = "default"
REPOSITORY, ORGANISATION, EXTENDS = "repository file", "org .github", "_extends"


@dataclass(frozen=True)
class Layer:
    """One settings file that was read: where, how the lookup reached it, and its mapping."""

    location: str  # owner/repo:path, or a local path
    kind: str  # REPOSITORY, ORGANISATION or EXTENDS
    raw: dict


@dataclass(frozen=True)
class Shown:
    config: Config
    layers: tuple = ()  # the files read, the repository's first
    problems: tuple = ()  # errors, then warnings about unknown keys
    defaults_used: bool = False  # an error made the defaults apply, as in a review


def from_repo(read: Callable[[str, str], Optional[str]], repo: str) -> Shown:
    """The configuration reviews of `repo` use, with the files the lookup read (`read` as for `resolve`)."""
    found = []

    def recording(owner_repo: str, path: str) -> Optional[str]:
        text = read(owner_repo, path)
        if text is not None:
            found.append((owner_repo, path, text))
        return text

    config, problems, defaults_used = resolve(recording, repo)
    layers, extended = [], False
    for owner_repo, path, text in found:
        try:
            raw = parse_mapping(text, f"{owner_repo}:{path}")
        except ConfigError:  # it is in `problems` already
            break
        kind = EXTENDS if extended else REPOSITORY if owner_repo == repo else ORGANISATION
        layers.append(Layer(f"{owner_repo}:{path}", kind, raw))
        extended = bool(raw.get("_extends"))
    return Shown(config, tuple(layers), tuple(problems), defaults_used)


def from_file(path: str, text: str) -> Shown:
    """A local settings file (raises ConfigError); `_extends` and the organisation's file are not followed."""
    raw = parse_mapping(text, path)
    return Shown(from_mapping(raw), (Layer(path, REPOSITORY, raw),))


def _leaves(value, prefix: str = ""):
    """(dotted key, value) of every setting, sections walked."""
    for field in fields(value):
        item = getattr(value, field.name)
        if is_dataclass(item):
            yield from _leaves(item, f"{prefix}{field.name}.")
        else:
            yield f"{prefix}{field.name}", item


def _sets(raw: dict, key: str) -> bool:
    node = raw
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


def settings(shown: Shown) -> dict:
    """dotted key -> {"value", "from" (default or the kind of file that set it), "file" (or None)}."""
    layers = () if shown.defaults_used else shown.layers
    out = {}
    for key, value in _leaves(shown.config):
        layer = next((layer for layer in layers if _sets(layer.raw, key)), None)
        out[key] = {"value": _plain(value), "from": layer.kind if layer else DEFAULT_ORIGIN,
                    "file": layer.location if layer else None}
    return out


def document(shown: Shown, repo: Optional[str]) -> dict:
    """The JSON document (schemas/config.schema.json)."""
    return {"schema_version": SCHEMA_VERSION, "repo": repo,
            "files": [{"file": layer.location, "from": layer.kind} for layer in shown.layers],
            "problems": list(shown.problems), "settings": settings(shown)}
