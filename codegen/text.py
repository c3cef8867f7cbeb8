"""Make untrusted document text safe to place in docstrings and comments.

Descriptions come from documents we do not control. In generated source they may only
ever appear inside a docstring (escaped by :func:`docstring`) or a ``#`` comment (escaped
by :func:`comment_lines`); everything else goes through ``repr()``.
"""

from __future__ import annotations

import re
import textwrap
import unicodedata

#: Unicode categories that never reach generated source as themselves: control, format
#: (which holds the bidirectional overrides of CVE-2021-42574), line and paragraph
#: separators, surrogates, private use and unassigned code points.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


def _escape_char(char: str) -> str:
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _visible(line: str) -> str:
    """``line`` with every unsafe character written as a backslash escape."""
    if line.isascii() and line.isprintable():  # fast path: no ASCII printable character is unsafe
        return line
    return "".join(_escape_char(char) if unicodedata.category(char) in _UNSAFE_CATEGORIES else char for char in line)


def _lines(value: str) -> list[str]:
    """Split on the line breaks Python's tokenizer knows; expand tabs; strip trailing blanks."""
    normalized = value.replace("\r\n", "\n").replace("\r", "\n").expandtabs(4)
    return [line.rstrip() for line in normalized.split("\n")]


#: Lone surrogates (JSON allows ``"\\ud800"``). A class whose ``__doc__`` holds one cannot be
#: created (CPython encodes class docstrings as UTF-8), so docstrings show them as text.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _surrogate_text(match: re.Match[str]) -> str:
    return f"\\\\u{ord(match.group()):04x}"


def docstring(value: str) -> str:
    """Text to place between ``\"\"\"`` quotes: the runtime ``__doc__`` reads as ``value``
    (lone surrogates excepted: they read as their ``\\uXXXX`` escape).

    Backslashes are doubled, quote runs broken, unsafe characters written as escapes, and a
    trailing quote escaped so it cannot close the string early.
    """
    lines = (_SURROGATE.sub(_surrogate_text, line.replace("\\", "\\\\")) for line in _lines(value))
    body = "\n".join(_visible(line) for line in lines).strip("\n")
    body = body.replace('"""', '\\"\\"\\"')
    if body.endswith('"') and (len(body) - 1 - len(body[:-1].rstrip("\\"))) % 2 == 0:
        # An unescaped final quote would join the closing quotes (an escaped one, left by the
        # replacement above, must not be escaped twice: that would end the string early).
        body = body[:-1] + '\\"'
    return body or "Undocumented."


def comment_lines(value: str, width: int = 88) -> tuple[str, ...]:
    """``value`` as lines for ``# `` comments: wrapped, one line per entry, no line breaks."""
    result: list[str] = []
    for paragraph in _lines(value):
        result.extend(_wrap_line(_visible(paragraph), width, True) if paragraph.strip() else [""])
    while result and not result[-1]:
        result.pop()
    return tuple(result)


def wrap(value: str, width: int = 88) -> list[str]:
    """Wrap each line of ``value`` to ``width`` columns, keeping blank lines."""
    result: list[str] = []
    for paragraph in _lines(value):
        result.extend(_wrap_line(paragraph, width, False) if paragraph.strip() else [""])
    return result


def _wrap_line(line: str, width: int, break_long_words: bool) -> list[str]:
    """``textwrap.wrap`` of one line, without its cost when the line already fits (most do)."""
    if len(line) <= width and line.isprintable():
        return [line]  # what textwrap returns for a fitting line without tabs or odd whitespace
    return fill(line, width, break_long_words=break_long_words)


def fill(
    value: str, width: int, initial_indent: str = "", subsequent_indent: str = "", break_long_words: bool = True
) -> list[str]:
    """``textwrap.wrap`` with these arguments (its defaults otherwise), exactly, at a fraction of the cost.

    Text that textwrap would only break at single spaces is wrapped here, a line at a time:
    printable text (so the space is its one whitespace character) without leading, trailing or
    doubled spaces, where no line would end inside a word (too long for a line, or with a
    hyphen textwrap may break after, before the line's end). Anything else goes to textwrap.
    """
    lines: list[str] = []
    start = 0
    if width > 0 and value and value.isprintable() and value[0] != " " and value[-1] != " " and "  " not in value:
        size = len(value)
        while True:
            indent = subsequent_indent if lines else initial_indent
            limit = start + width - len(indent)  # where this line's text must end, at the latest
            if size <= limit:
                lines.append(indent + value[start:])
                return lines
            cut = value.rfind(" ", start, limit + 1)  # textwrap's last chunk boundary, unless ...
            after = value.find(" ", cut + 1) % (size + 1)  # (the end of the next word)
            if cut < 0 or "-" in value[cut + 1 : limit + 1] or after - cut - 1 > limit - start:
                break  # ... a word is too long for a line (textwrap breaks it), or a hyphen may split one
            lines.append(indent + value[start:cut])
            start = cut + 1
    # textwrap wraps the rest as it would have: it starts with a word, as a line after the first.
    indent = subsequent_indent if lines else initial_indent
    return lines + textwrap.wrap(
        value[start:], width, initial_indent=indent, subsequent_indent=subsequent_indent,
        break_long_words=break_long_words,
    )  # fmt: skip
