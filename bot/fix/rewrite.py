"""Edit the syntax tree: each checked loop onto run_batch; every other line stays as it was."""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from bot.fix.find import Site

WAIT_COMMENT = (
    "# Waits for the batch: up to 24 hours, usually under one. Running this again resumes job",
    '# "{job}" instead of paying twice (name a recurring job after its date or run id).',
)


class Names:
    """Fresh names for the generated code, never one the file already uses."""

    def __init__(self, module: cst.Module):
        self.used = {n.value for n in m.findall(module, m.Name())}

    def new(self, wanted: str) -> str:
        name, number = wanted, 1
        while name in self.used:
            number += 1
            name = f"{wanted}_{number}"
        self.used.add(name)
        return name


def rewrite(module: cst.Module, sites: list, helper_import: str) -> cst.Module:
    """The module with every site moved onto run_batch, and the helper imported once."""
    names = Names(module)
    edit = _Edit()
    for site in sites:
        _plan(site, names, module, edit)
    return _import(module.visit(edit), helper_import)


class _Edit(cst.CSTTransformer):
    """Replacements by node identity: new nodes, removals, and statements inserted before a statement."""

    def __init__(self):
        self.replace, self.before, self.after = {}, {}, {}

    def on_leave(self, original, updated):
        key = id(original)
        if key in self.replace:
            updated = self.replace[key](updated) if callable(self.replace[key]) else self.replace[key]
        before, after = self.before.get(key, []), self.after.get(key, [])
        if before:  # the statement's own leading comments go above what is inserted
            before = [before[0].with_changes(leading_lines=[*updated.leading_lines, *before[0].leading_lines]),
                      *before[1:]]
            updated = updated.with_changes(leading_lines=[])
        return cst.FlattenSentinel([*before, updated, *after]) if before or after else updated


def _statement(code: str) -> cst.BaseStatement:
    return cst.parse_statement(code)


def _params_function(name: str, param, pre: tuple, value: cst.BaseExpression) -> cst.FunctionDef:
    """def name(param): <pre> return value"""
    parameters = param if isinstance(param, cst.Parameters) else cst.Parameters([cst.Param(cst.Name(param))])
    body = [*pre, cst.SimpleStatementLine([cst.Return(value)])]
    return cst.FunctionDef(cst.Name(name), parameters, cst.IndentedBlock(body))


def dict_of(create: cst.Call) -> cst.Call:
    """`dict(<the create call's arguments, as written>)`."""
    return cst.Call(cst.Name("dict"), create.args, whitespace_before_args=create.whitespace_before_args)


def _plan(site: Site, names: Names, module: cst.Module, edit: _Edit) -> None:
    code = module.code_for_node
    replies, custom_id, items = names.new("replies"), names.new("custom_id"), names.new("items")
    ids = f"{replies}.custom_ids if {replies} else []"  # run_batch needs at least one item
    text = cst.parse_expression(f"{replies}.texts[{custom_id}]")
    inserted = [_statement(f"{items} = list({code(site.items)})  # sent, then paired with each reply\n")]
    if site.helper is not None:
        params_name = _split_helper(site, names, edit)
    if site.loop is None:  # executor.map(helper, items): the texts in the items' order
        build = params_name
        text = cst.parse_expression(f"[{replies}.texts[{custom_id}] for {custom_id} in ({ids})]")
    else:
        item = code(site.item)
        if site.helper is None:
            value = dict_of(site.create)
        else:
            value = cst.Call(cst.Name(params_name), [cst.Arg(a) for a in site.helper_args])
        if site.helper is not None and not site.pre and [code(a) for a in site.helper_args] == [item]:
            build = params_name
        else:
            build = names.new("build_params")
            pre = site.pre
            if not isinstance(site.item, cst.Name):  # `for key, row in ...`: one parameter, unpacked first
                item = names.new("item")
                pre = (_statement(f"{code(site.item)} = {item}\n"), *pre)
            inserted.append(_params_function(build, item, pre, value))
        zipped = cst.parse_expression(f"zip({items}, {ids})")
        paired = site.item if isinstance(site.item, cst.Name) else site.item.with_changes(
            lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        target = cst.Tuple([cst.Element(paired), cst.Element(cst.Name(custom_id))], lpar=[], rpar=[])
        edit.replace[id(site.loop)] = lambda updated: updated.with_changes(target=target, iter=zipped)
    call = _statement(f'{replies} = run_batch({items}, {build}, job="{site.job}", client={code(site.client)}) '
                      f"if {items} else None\n")
    comment = [cst.EmptyLine(comment=cst.Comment(line.format(job=site.job))) for line in WAIT_COMMENT]
    inserted.append(call.with_changes(leading_lines=comment))
    inserted.append(_statement(
        f"if {replies} and not {replies}.ok:  # errored, expired or canceled: stop, as a failed call would\n"
        f'    raise RuntimeError(f"{{{replies}!r}} did not all succeed; errors: {{dict({replies}.errors)}}")\n'))
    edit.before.setdefault(id(site.statement), []).extend(inserted)
    if site.submitted:  # executor.submit(str, text): a real future, already answered, for the code that waits on it
        text = site.uses[0].with_changes(args=[cst.Arg(cst.Name("str")), cst.Arg(text)])
    for use in site.uses:
        edit.replace[id(use)] = text
    for statement in site.removed:
        edit.replace[id(statement)] = cst.RemovalSentinel.REMOVE


def _split_helper(site: Site, names: Names, edit: _Edit) -> str:
    """`def summarize(doc)` -> `def summarize_params(doc)` (the request) and `summarize` calling Claude with it."""
    helper = site.helper
    if id(helper) in edit.after:  # another loop already split it
        return edit.after[id(helper)][0].name.value
    params_name = names.new(f"{helper.name.value}_params")
    function = _params_function(params_name, helper.params, site.helper_pre, dict_of(site.create))
    edit.after[id(helper)] = [function.with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()])]
    call = cst.Call(cst.Name(params_name), [cst.Arg(cst.Name(p.name.value)) for p in helper.params.params])
    edit.replace[id(site.create)] = lambda updated: updated.with_changes(
        args=[cst.Arg(call, star="**")], whitespace_before_args=cst.SimpleWhitespace(""))
    for statement in site.helper_pre:
        edit.replace[id(statement)] = cst.RemovalSentinel.REMOVE
    return params_name


def _import(module: cst.Module, helper_import: str) -> cst.Module:
    """Add `helper_import` after the file's leading imports, unless run_batch is already imported."""
    if any(m.findall(module, m.ImportAlias(name=m.Name("run_batch"), asname=None))):
        return module
    body = list(module.body)
    place = 0
    for index, statement in enumerate(body):
        if m.matches(statement, m.SimpleStatementLine([m.Import() | m.ImportFrom()])):
            place = index + 1
        elif index == 0 and m.matches(statement, m.SimpleStatementLine([m.Expr(m.SimpleString())])):
            place = 1
        else:
            break
    body.insert(place, _statement(helper_import + "\n"))
    return module.with_changes(body=body)
