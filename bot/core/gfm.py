"""GitHub Flavored Markdown to HTML with cmark-gfm, the parser GitHub itself uses (pure).

cmarkgfm's Python wrappers never free the tree or the HTML that cmark allocates (about twice a
text's size leaks on every call), so its compiled library is called here through ctypes, with
the tasklist extension and raw HTML kept (our hidden markers are HTML comments).
"""

import ctypes
from ctypes import c_char_p, c_int, c_size_t, c_void_p

from cmarkgfm import _cmark
from cmarkgfm.cmark import Options

_CMARK = ctypes.CDLL(_cmark.__file__)  # already loaded by cmarkgfm: the same library, declared here
_LIBC = ctypes.CDLL(None)  # cmark allocates with the C library's malloc
_OPTIONS = Options.CMARK_OPT_UNSAFE  # without it raw HTML, our markers too, becomes "raw HTML omitted"


def _declare(library, name, result, *arguments):
    function = getattr(library, name)
    function.restype, function.argtypes = result, arguments
    return function


_new = _declare(_CMARK, "cmark_parser_new", c_void_p, c_int)
_attach = _declare(_CMARK, "cmark_parser_attach_syntax_extension", c_int, c_void_p, c_void_p)
_feed = _declare(_CMARK, "cmark_parser_feed", None, c_void_p, c_char_p, c_size_t)
_finish = _declare(_CMARK, "cmark_parser_finish", c_void_p, c_void_p)
_extensions = _declare(_CMARK, "cmark_parser_get_syntax_extensions", c_void_p, c_void_p)
_render = _declare(_CMARK, "cmark_render_html", c_void_p, c_void_p, c_int, c_void_p)
_free_tree = _declare(_CMARK, "cmark_node_free", None, c_void_p)
_free_parser = _declare(_CMARK, "cmark_parser_free", None, c_void_p)
_free = _declare(_LIBC, "free", None, c_void_p)

_CMARK.cmark_gfm_core_extensions_ensure_registered()
_TASKLIST = _declare(_CMARK, "cmark_find_syntax_extension", c_void_p, c_char_p)(b"tasklist")


def to_html(text: str) -> str:
    """The HTML GitHub renders for `text` before sanitising: task list items as checkbox inputs."""
    data = text.encode("utf-8", "replace")
    parser = _new(_OPTIONS)
    _attach(parser, _TASKLIST)
    _feed(parser, data, len(data))
    tree = _finish(parser)
    html = _render(tree, _OPTIONS, _extensions(parser))
    try:
        return ctypes.string_at(html).decode("utf-8", "replace")
    finally:
        _free(html)
        _free_tree(tree)
        _free_parser(parser)
