"""The filled-in example printed instead of a patch, named after the loop it stands for."""

from __future__ import annotations

from textwrap import indent
from typing import Optional

import libcst as cst

from bot.fix.find import Finder, Site
from bot.fix.rewrite import WAIT_COMMENT, dict_of


def snippet(site: Site, finder: Optional[Finder], helper_import: str) -> str:
    code = finder.code if finder else str
    items = code(site.items) if site.items is not None else "items"
    item = site.item.value if isinstance(site.item, cst.Name) else "item"
    unpack = f"    {code(site.item)} = item\n" if site.item is not None and item == "item" else ""
    target = f"({code(site.item)})" if unpack else item
    client = code(site.client) if site.client is not None else "client"
    request = code(dict_of(site.create)) if site.create else "dict(model=..., max_tokens=..., messages=[...])"
    comment = "\n".join(WAIT_COMMENT).format(job=site.job)
    return f"""\
{helper_import}


def build_params({item}):
{unpack}    return {request}


items = list({items})  # sent, then paired with each reply (run_batch needs at least one)
{comment}
replies = run_batch(items, build_params, job="{site.job}", client={client})
for {target}, custom_id in zip(items, replies.custom_ids):
    if custom_id in replies.errors or custom_id in replies.expired:
        ...  # handle it: replies.errors[custom_id] says why; an expired request can be sent again
        continue
    message = replies.messages[custom_id]  # the whole reply as a dict: message["content"], message["usage"], ...
"""


def shown(text: str) -> str:
    """A snippet indented for the terminal."""
    return indent(text, "    ")
