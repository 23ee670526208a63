"""Find the loop around a flagged call and decide whether it can move onto run_batch safely."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import libcst as cst
import libcst.matchers as m
from libcst.metadata import ParentNodeProvider, PositionProvider

from bot.fix import model
from bot.scan.model import COMPREHENSION, LOOP, THREAD_POOL_MAP

LOOP_SIGNALS = (LOOP, COMPREHENSION, THREAD_POOL_MAP)
BLOCKS = (cst.IndentedBlock, cst.Module)
COMPREHENSIONS = (cst.ListComp, cst.DictComp, cst.SetComp, cst.GeneratorExp)
CREATE = m.Call(func=m.Attribute(value=m.Attribute(attr=m.Name("messages")), attr=m.Name("create")))
TEXT = m.Attribute(
    value=m.Subscript(value=m.Attribute(attr=m.Name("content")), slice=[m.SubscriptElement(m.Index(m.Integer("0")))]),
    attr=m.Name("text"),
)


ASSIGN = m.SimpleStatementLine(body=[m.Assign(targets=[m.AssignTarget(m.Name())])])  # `name = value`


class Unsafe(Exception):
    """The loop cannot be rewritten safely; the message says why."""


@dataclass
class Site:
    """A flagged loop, filled in as far as it was understood (a refusal's snippet uses what is known)."""

    line: int  # the loop's line
    job: str
    statement: Optional[cst.BaseStatement] = None  # the statement holding the loop: run_batch goes before it
    items: Optional[cst.BaseExpression] = None  # what the loop runs over
    item: Optional[cst.BaseAssignTargetExpression] = None  # the loop's target (`row`, `key, row`); None: map
    loop: Optional[cst.CSTNode] = None  # the For or CompFor zipped with the custom ids; None for `executor.map`
    create: Optional[cst.Call] = None
    client: Optional[cst.BaseExpression] = None
    pre: tuple = ()  # loop-body assignments the request is built from, copied into build_params
    uses: tuple = ()  # expressions replaced by the reply's text
    removed: tuple = ()  # loop-body statements dropped (the create's assignment; pre-assignments read nowhere else)
    helper: Optional[cst.FunctionDef] = None  # a same-file function split into <name>_params and itself
    helper_pre: tuple = ()  # the helper's assignments, moved into <name>_params
    helper_args: Optional[tuple] = None  # the helper call's arguments in the loop (None: `executor.map`)
    submitted: bool = False  # the loop calls the helper through `executor.submit(helper, ...)`


class Finder:
    """One parsed file: locates and checks the loops its flagged calls run in."""

    def __init__(self, text: str, path: str):
        self.wrapper = cst.MetadataWrapper(cst.parse_module(text))
        self.module = self.wrapper.module
        self.path = path
        self.position = self.wrapper.resolve(PositionProvider)
        self.parent = self.wrapper.resolve(ParentNodeProvider)
        self.imported = _imported_names(self.module)

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    def site(self, call_line: int, signal_id: str, loop_line: int) -> tuple:
        """(Site, None) when the loop can be rewritten, else (Site so far, reason)."""
        loop = self._loop_at(signal_id, loop_line)
        site = Site(loop_line, model.job_name(self.path, self._function_name(loop)))
        try:
            self._fill(site, loop, call_line)
        except Unsafe as unsafe:
            return site, str(unsafe)
        return site, None

    # --- locating ---------------------------------------------------------------------------------

    def _nodes_at(self, line: int, kinds) -> list:
        return [node for node, where in self.position.items() if where.start.line == line and isinstance(node, kinds)]

    def _loop_at(self, signal_id: str, line: int) -> Optional[cst.CSTNode]:
        kinds = {LOOP: (cst.For, cst.While), COMPREHENSION: COMPREHENSIONS + (cst.Call,)}.get(signal_id, (cst.Call,))
        found = [n for n in self._nodes_at(line, kinds) if not isinstance(n, cst.Call) or _mapping(n)]
        return found[0] if found else None

    def _ancestors(self, node: cst.CSTNode):
        while node in self.parent:
            node = self.parent[node]
            yield node

    def _function(self, node: cst.CSTNode) -> Optional[cst.FunctionDef]:
        return next((a for a in self._ancestors(node) if isinstance(a, cst.FunctionDef)), None)

    def _function_name(self, node: Optional[cst.CSTNode]) -> Optional[str]:
        function = node and self._function(node)
        return function.name.value if function else None

    def _statement(self, node: cst.CSTNode) -> cst.BaseStatement:
        """The statement holding `node` that sits directly in a block."""
        for ancestor in [node, *self._ancestors(node)]:
            if isinstance(ancestor, cst.BaseStatement) and isinstance(self.parent.get(ancestor), BLOCKS):
                return ancestor
        raise Unsafe(model.SHAPE.format("no statement around it"))

    def _inside(self, node: cst.CSTNode, outer: cst.CSTNode) -> bool:
        return any(a is outer for a in self._ancestors(node))

    # --- checking ---------------------------------------------------------------------------------

    def _fill(self, site: Site, loop: Optional[cst.CSTNode], call_line: int) -> None:
        creates = [n for n in self._nodes_at(call_line, cst.Call) if m.matches(n, CREATE)]
        if loop is not None:
            self._fill_loop(site, loop)
        if not creates:
            raise Unsafe(model.NOT_CREATE.format("another API"))
        site.create = create = creates[0]
        site.client = create.func.value.value
        if loop is None:
            raise Unsafe(model.SHAPE.format("no `for`, comprehension or `map` at the flagged line"))
        if isinstance(loop, cst.While):
            raise Unsafe(model.SHAPE.format("a `while` loop"))
        function = self._function(loop)
        if (function and function.asynchronous) or getattr(loop, "asynchronous", None) or self._awaited(create):
            raise Unsafe(model.ASYNC)
        if any(arg.keyword and arg.keyword.value == "stream" for arg in create.args):
            raise Unsafe(model.STREAMING)
        if any(not arg.keyword and not arg.star for arg in create.args):
            raise Unsafe(model.SHAPE.format("positional arguments to `messages.create`"))
        self._check_client(site.client)
        if self._inside(create, loop):
            self._direct(site, loop, create)
        else:
            self._through_helper(site, loop, create)

    def _fill_loop(self, site: Site, loop: cst.CSTNode) -> None:
        site.statement = self._statement(loop)
        for outer in self._ancestors(site.statement):
            if isinstance(outer, (cst.FunctionDef, cst.ClassDef)):
                break
            if isinstance(outer, (cst.For, cst.While)):  # each pass would need a job of its own
                raise Unsafe(model.SHAPE.format("a loop inside another loop"))
        if isinstance(loop, cst.For):
            site.loop, site.items, target = loop, loop.iter, loop.target
        elif isinstance(loop, COMPREHENSIONS):
            site.loop, site.items, target = loop.for_in, loop.for_in.iter, loop.for_in.target
        elif isinstance(loop, cst.Call):
            site.items, target = loop.args[1].value, None
        else:
            return
        if target is not None and not m.matches(target, m.Name() | m.Tuple([m.ZeroOrMore(m.Element(m.Name()))])):
            raise Unsafe(model.SHAPE.format(f"the loop unpacks `{self.code(target)}`"))
        site.item = target

    def _awaited(self, create: cst.Call) -> bool:
        return isinstance(self.parent.get(create), cst.Await)

    def _check_client(self, client: cst.BaseExpression) -> None:
        root = _root(client)
        module = self.imported.get(root)
        if module is not None and module.split(".")[0] != "anthropic":
            raise Unsafe(model.CLIENT_ELSEWHERE.format(self.code(client)))

    def _text_use(self, node: cst.CSTNode) -> Optional[cst.Attribute]:
        """`node.content[0].text` around `node`, or None."""
        chain = [node, *list(self._ancestors(node))[:3]]
        if len(chain) == 4 and m.matches(chain[3], TEXT) and chain[3].value.value.value is node:
            return chain[3]
        return None

    def _uses_of_reply(self, create: cst.Call, scope: cst.CSTNode, body: Optional[cst.IndentedBlock] = None) -> tuple:
        """(text expressions to replace, statements to drop) for the reply of `create` within `scope`.

        The reply is used as `create(...).content[0].text`, or assigned by a line of `body` to a name
        used only as `name.content[0].text`.
        """
        text = self._text_use(create)
        if text is not None:
            return (text,), ()
        assign = self.parent.get(create)
        line = assign and self.parent.get(assign)
        if not (body and m.matches(assign, m.Assign(targets=[m.AssignTarget(m.Name())])) and line in body.body):
            used = self.code(self.parent.get(create, create)).replace(self.code(create), "messages.create(...)")
            raise Unsafe(model.OTHER_FIELDS.format(used.strip()))
        reply = assign.targets[0].target.value
        uses = []
        for name in _find(scope, m.Name(reply)):
            if any(name is t.target for t in assign.targets):
                continue
            use = self._text_use(name)
            if use is None:
                outer = self.parent.get(name, name)
                raise Unsafe(model.OTHER_FIELDS.format(self.code(outer if not isinstance(outer, cst.Arg) else name)))
            uses.append(use)
        return tuple(uses), (line,)

    def _body_checks(self, site: Site, loop: cst.For, holder: cst.BaseStatement, request: tuple) -> None:
        """Fill site.pre and site.removed from the loop body, refusing side effects, early stops and dependencies."""
        if loop.orelse:
            raise Unsafe(model.SHAPE.format("`for ... else`"))
        for stop in _find(loop.body, m.Break() | m.Return() | m.Yield()):
            raise Unsafe(model.STOPS_EARLY.format(self.code(stop).split()[0]))
        if not isinstance(holder, cst.SimpleStatementLine):
            raise Unsafe(model.NESTED.format(self.code(holder).split()[0].rstrip(":")))
        body = list(loop.body.body)
        index = body.index(holder)
        pre = body[:index]
        for statement in pre:
            if not m.matches(statement, ASSIGN):
                raise Unsafe(model.SIDE_EFFECT.format(self.code(statement).strip().splitlines()[0]))
        local = {n.value for n in _find(loop.target, m.Name())} | {_assigned(s) for s in pre}
        read = set().union(*(_names_read(n) for n in request + tuple(s.body[0].value for s in pre)))
        changed = _names_changed(loop.body, skip=request + tuple(pre)) - local - set(self.imported)
        for name in sorted(read & changed):
            raise Unsafe(model.DEPENDENT.format(name))
        read_after = set().union(*(_names_read(s) for s in body[index + 1:]))
        site.pre = tuple(pre)
        site.removed += tuple(s for s in pre if _assigned(s) not in read_after)

    def _direct(self, site: Site, loop: cst.CSTNode, create: cst.Call) -> None:
        if isinstance(loop, cst.Call):
            raise Unsafe(model.SHAPE.format("a lambda given to `map`"))
        if isinstance(loop, cst.For):
            self._body_checks(site, loop, self._line_in(create, loop.body), tuple(a.value for a in create.args))
            site.uses, removed = self._uses_of_reply(create, loop.body, loop.body)
            site.removed += removed
        else:
            self._comprehension(loop)
            site.uses, _ = self._uses_of_reply(create, loop)

    def _line_in(self, node: cst.CSTNode, body: cst.IndentedBlock) -> cst.BaseStatement:
        return next((a for a in [node, *self._ancestors(node)] if a in body.body), node)

    def _comprehension(self, comp: cst.CSTNode) -> None:
        if comp.for_in.ifs or comp.for_in.inner_for_in or comp.for_in.asynchronous:
            raise Unsafe(model.SHAPE.format("a comprehension with `if` or a second `for`"))

    def _through_helper(self, site: Site, loop: cst.CSTNode, create: cst.Call) -> None:
        helper = self._function(create)
        if helper is None or not isinstance(self.parent.get(helper), cst.Module):
            raise Unsafe(model.SHAPE.format("the call is in a method or nested function"))
        name = helper.name.value
        self._check_helper(site, helper, create)
        if isinstance(loop, cst.Call):
            if not m.matches(loop.args[0].value, m.Name(name)):
                raise Unsafe(model.SHAPE.format(f"`map` runs another function than `{name}()`"))
            site.uses = (loop,)
            return
        items = site.items
        submit = m.Call(func=m.Attribute(attr=m.Name("submit")), args=[m.Arg(m.Name(name)), m.ZeroOrMore()])
        calls = [c for c in _find(loop, m.Call(func=m.Name(name)) | submit) if not self._inside(c, items)]
        if len(calls) != 1:
            raise Unsafe(model.SHAPE.format(f"`{name}()` is not called once in the loop"))
        call = calls[0]
        site.submitted = m.matches(call, submit)
        args = call.args[1:] if site.submitted else call.args
        if any(arg.keyword or arg.star for arg in args):
            raise Unsafe(model.SHAPE.format(f"`{name}()` is given keyword or starred arguments"))
        site.uses, site.helper_args = (call,), tuple(a.value for a in args)
        if isinstance(loop, cst.For):
            self._body_checks(site, loop, self._line_in(call, loop.body), site.helper_args)
        else:
            self._comprehension(loop)

    def _check_helper(self, site: Site, helper: cst.FunctionDef, create: cst.Call) -> None:
        """`helper` only builds the request, calls Claude and returns the text: split it in two."""
        params, shape = helper.params, Unsafe(model.HELPER_SHAPE.format(helper.name.value))
        if params.star_arg != cst.MaybeSentinel.DEFAULT or params.kwonly_params or params.star_kwarg \
                or params.posonly_params:
            raise shape
        if helper.asynchronous:
            raise Unsafe(model.ASYNC)
        own = {p.name.value for p in params.params} | {_assigned(s) for s in m.findall(helper.body, ASSIGN)}
        if _root(site.client) in own:
            raise Unsafe(model.CLIENT_LOCAL.format(self.code(site.client)))
        body = [s for s in helper.body.body if not m.matches(s, m.SimpleStatementLine([m.Expr(m.SimpleString())]))]
        if not body or not m.matches(body[-1], m.SimpleStatementLine([m.Return()])):
            raise shape
        uses, removed = self._uses_of_reply(create, helper.body, helper.body)
        rest = [s for s in body[:-1] if s not in removed]
        if list(uses) != [body[-1].body[0].value] or not all(m.matches(s, ASSIGN) for s in rest):
            raise shape
        site.helper, site.helper_pre = helper, tuple(rest)


# --- plain tree helpers -----------------------------------------------------------------------------

def _mapping(call: cst.Call) -> bool:
    """`executor.map(f, items)` or `map(f, items)`."""
    return len(call.args) == 2 and m.matches(call.func, m.Name("map") | m.Attribute(attr=m.Name("map")))


def _assigned(statement: cst.SimpleStatementLine) -> str:
    """The name a `name = value` line binds."""
    return statement.body[0].targets[0].target.value


def _find(node: cst.CSTNode, matcher) -> list:
    return list(m.findall(node, matcher))


def _root(expr: cst.CSTNode) -> Optional[str]:
    """`client` for `client`, `self.client.x`, `clients[0]`, `make()`; None otherwise."""
    while isinstance(expr, (cst.Attribute, cst.Subscript, cst.Call)):
        expr = expr.func if isinstance(expr, cst.Call) else expr.value
    return expr.value if isinstance(expr, cst.Name) else None


class _Reads(cst.CSTVisitor):
    def __init__(self):
        self.names = set()

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False


def _names_read(node: cst.CSTNode) -> set:
    reads = _Reads()
    node.visit(reads)
    return reads.names


class _Changes(cst.CSTVisitor):
    """Names a block binds or may change: assignments, augmented assignments, method calls on them."""

    def __init__(self, skip: tuple):
        self.names, self.skip = set(), skip

    def visit_AssignTarget(self, node) -> None:
        self.names.update(n.value for n in m.findall(node.target, m.Name()) if _root(node.target) == n.value
                          or isinstance(node.target, (cst.Tuple, cst.List)))

    def visit_AugAssign(self, node) -> None:
        self.names.add(_root(node.target))

    def visit_AnnAssign(self, node) -> None:
        self.names.add(_root(node.target))

    def visit_For(self, node) -> None:
        self.names.update(n.value for n in m.findall(node.target, m.Name()))

    def visit_Call(self, node) -> Optional[bool]:
        if any(_contains(outer, node) for outer in self.skip):
            return False
        if isinstance(node.func, cst.Attribute):
            self.names.add(_root(node.func.value))
        return None


def _contains(outer: cst.CSTNode, node: cst.CSTNode) -> bool:
    return outer is node or any(n is node for n in m.findall(outer, m.Call()))


def _names_changed(node: cst.CSTNode, skip: tuple = ()) -> set:
    changes = _Changes(skip)
    node.visit(changes)
    return changes.names - {None}


def _imported_names(module: cst.Module) -> dict:
    """Top-level names bound by imports -> the module they come from."""
    names = {}
    for statement in module.body:
        for node in statement.body if isinstance(statement, cst.SimpleStatementLine) else ():
            if isinstance(node, cst.ImportFrom) and not isinstance(node.names, cst.ImportStar) and node.module:
                source = cst.Module([]).code_for_node(node.module)
                for alias in node.names:
                    names[(alias.asname.name if alias.asname else alias.name).value] = source
            elif isinstance(node, cst.Import):
                for alias in node.names:
                    dotted = cst.Module([]).code_for_node(alias.name)
                    names[alias.asname.name.value if alias.asname else dotted.split(".")[0]] = dotted
    return names
