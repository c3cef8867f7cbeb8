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
    """``value`` as lines for ``# `` comments: wrapped at spaces, one line per entry, no line breaks."""
    result: list[str] = []
    for paragraph in _lines(value):
        result.extend(_wrap_line(_visible(paragraph), width) if paragraph.strip() else [""])
    while result and not result[-1]:
        result.pop()
    return tuple(result)


def wrap(value: str, width: int = 88) -> list[str]:
    """Wrap each line of ``value`` to ``width`` columns at spaces, keeping blank lines."""
    result: list[str] = []
    for paragraph in _lines(value):
        result.extend(_wrap_line(paragraph, width) if paragraph.strip() else [""])
    return result


def _wrap_line(line: str, width: int) -> list[str]:
    """:func:`wrap_words` of one line, without its cost when the line already fits (most do)."""
    if len(line) <= width and line.isprintable():
        return [line]  # what textwrap returns for a fitting line without tabs or odd whitespace
    return wrap_words(line, width)


def wrap_words(value: str, width: int, initial_indent: str = "", subsequent_indent: str = "") -> list[str]:
    """Text wrapped the way descriptions are: at spaces only. A word, a URL or a hyphenated name
    is never split (a longer one gets a line of its own), so links stay whole.

    Exactly ``textwrap.wrap(value, width, initial_indent=..., subsequent_indent=...,
    break_long_words=False, break_on_hyphens=False)``, at a fraction of the cost: text whose one
    whitespace character is the space, without trailing or doubled spaces (leading ones
    allowed), is wrapped here, a line at a time: a line ends at the last space that fits, and a
    word too long for any line gets a line of its own. Rare shapes (an indent wider than the
    line, a line that would be only the leading spaces) go to textwrap.
    """
    if "\t" not in value:  # textwrap's first step, which lets text with line breaks take the fast path
        value = value.translate(_LINE_BREAKS_TO_SPACES)
    lines: list[str] = []
    start = 0
    lead = len(value) - len(value.lstrip(" "))
    if width > 0 and value.isprintable() and lead < len(value) and value[-1] != " " and "  " not in value[lead:]:
        size = len(value)
        while True:
            indent = subsequent_indent if lines else initial_indent
            room = width - len(indent)
            limit = start + room  # where this line's text must end, at the latest
            if size <= limit:
                lines.append(indent + value[start:])
                return lines
            if room <= lead:
                break
            cut = value.rfind(" ", start, limit + 1)  # the last space that fits
            if start == 0 and lead and cut < lead:
                break
            if cut == limit:  # the text before it fills the line; the space starts the next one
                end = cut
            elif cut >= 0:  # the word across the line's end moves to the next line
                end = cut + 1
            else:  # a word longer than a line: alone on its line, unbroken
                end = value.find(" ", limit) % (size + 1)
            if start == 0 and end <= lead:
                break
            lines.append(indent + value[start : end - 1 if value[end - 1] == " " else end])
            start = end + 1 if end < size and value[end] == " " else end
            if start == size:  # the last word, too long for a line, ended the text
                return lines
    # textwrap wraps the rest as it would have when the rest starts with a word, as a line after
    # the first; text cut inside a word is wrapped again from the start.
    if start and value[start - 1] != " ":
        lines, start = [], 0
    indent = subsequent_indent if lines else initial_indent
    return lines + textwrap.wrap(
        value[start:], width, initial_indent=indent, subsequent_indent=subsequent_indent,
        break_long_words=False, break_on_hyphens=False,
    )  # fmt: skip


#: textwrap replaces each of its whitespace characters with a space (after expanding tabs).
_LINE_BREAKS_TO_SPACES = str.maketrans(dict.fromkeys("\n\x0b\x0c\r", " "))
