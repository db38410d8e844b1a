"""Statements laid out as ruff formats them, so generated modules pass ``ruff format --check``.

A statement too long for one line is split at its brackets with one item a line and a trailing
comma: ruff format keeps that form (the magic trailing comma) at any line length.
"""

from __future__ import annotations

import textwrap

LINE_LIMIT = 88  # ruff format's default: generated lines never need rewrapping


def lines_of(one_line: str, head: str, items: list, tail: str, indent: int) -> list[str]:
    """``one_line`` when it fits at ``indent``, else ``head``, the items one a line, ``tail``."""
    if indent + len(one_line) <= LINE_LIMIT:
        return [one_line]
    return [head] + [f"    {item}," for item in items] + [tail]


def call(head: str, items: list, tail: str, indent: int) -> list[str]:
    """``head`` (ending in an opening bracket), the items separated by commas, ``tail``."""
    return lines_of(head + ", ".join(items) + tail, head, items, tail, indent)


def assign_call(targets: str, function: str, arguments: str, indent: int) -> list[str]:
    """``targets = function(arguments)``; the targets are split too when they alone are too long."""
    lines = call(f"{targets} = {function}(", split_top(arguments), ")", indent)
    if indent + len(lines[0]) <= LINE_LIMIT:
        return lines
    names = [f"    {t}," for t in split_top(targets)]
    return ["("] + names + [f") = {function}("] + lines[1:]


def return_lines(result: str, indent: int = 4) -> list[str]:
    """``return result``, split at its top-level commas (and inside a final tuple) when too long."""
    items = split_top(result)
    if indent + len(f"return {result}") <= LINE_LIMIT:
        return [f"return {result}"]
    if is_tuple(items[-1]) and len(items) > 1:
        head = f"return {', '.join(items[:-1])}, ("
        if indent + len(head) <= LINE_LIMIT:
            return [head] + [f"    {item}," for item in split_top(items[-1][1:-1])] + [")"]
    if len(items) == 1 and is_tuple(items[0]):
        items = split_top(items[0][1:-1])
    return ["return ("] + [f"    {item}," for item in items] + [")"]


def return_call(head: str, items: list, tail: str, indent: int = 4, statement: str = "return ") -> list[str]:
    """``return head items tail`` (a call), one item a line when too long, tuples split in turn;
    ``statement`` replaces ``return `` (``value = ``)."""
    one_line = f"{statement}{head}{', '.join(items)}{tail}"
    if indent + len(one_line) <= LINE_LIMIT:
        return [one_line]
    lines = [f"{statement}{head}"]
    for item in items:
        lines += ["    " + line for line in item_lines(item, indent + 4)]
    return lines + [tail]


def item_lines(item: str, indent: int) -> list[str]:
    """An item of a split call or tuple (with its comma); a tuple display too long is split too."""
    if indent + len(item) + 1 <= LINE_LIMIT or not is_tuple(item):
        return [item + ","]
    lines = ["("]
    for inner in split_top(item[1:-1]):
        lines += ["    " + line for line in item_lines(inner, indent + 4)]
    return lines + ["),"]


def split_top(text: str) -> list[str]:
    """The comma-separated items of ``text`` outside brackets (a trailing comma ends none)."""
    items, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += (char in "([{") - (char in ")]}")
        if char == "," and depth == 0:
            items.append(text[start:i].strip())
            start = i + 1
    last = text[start:].strip()
    return items + ([last] if last else [])


def is_tuple(text: str) -> bool:
    """``text`` is one parenthesised tuple display."""
    if not text.startswith("(") or not text.endswith(")"):
        return False
    depth = 0
    for char in text[:-1]:
        depth += (char in "([{") - (char in ")]}")
        if depth == 0:
            return False
    return len(split_top(text[1:-1])) > 1 or text.endswith(",)")


def wrap(lines: list) -> list:
    """Prose lines wrapped at the line limit; indented (preformatted) lines kept whole."""
    out: list = []
    for line in lines:
        preformatted = not line or line.startswith("    ")
        out += [line] if preformatted else textwrap.wrap(line, LINE_LIMIT, break_on_hyphens=False)
    return out




def tuple_display(items: list) -> str:
    """A tuple display as ruff formats it: (a, b) and (a,)."""
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
