"""Make untrusted document text safe to place in docstrings and comments.

Descriptions come from documents we do not control. In generated source they may only
ever appear inside a docstring (escaped by :func:`docstring`) or a ``#`` comment (escaped
by :func:`comment_lines`); everything else goes through ``repr()``.
"""

from __future__ import annotations

import functools
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


def wrap_words(value: str, width: int, initial_indent: str = "", subsequent_indent: str = "") -> list[str]:
    """Text wrapped the way descriptions are: at spaces only. A word, a URL or a hyphenated
    name is never split (a longer one gets a line of its own), so links stay whole."""
    return fill(value, width, initial_indent, subsequent_indent, break_long_words=False, break_on_hyphens=False)


def _wrap_line(line: str, width: int) -> list[str]:
    """:func:`wrap_words` of one line, without its cost when the line already fits (most do)."""
    if len(line) <= width and line.isprintable():
        return [line]  # what textwrap returns for a fitting line without tabs or odd whitespace
    return wrap_words(line, width)


def fill(
    value: str,
    width: int,
    initial_indent: str = "",
    subsequent_indent: str = "",
    break_long_words: bool = True,
    break_on_hyphens: bool = True,
) -> list[str]:
    """``textwrap.wrap`` with these arguments (its defaults otherwise), exactly, at a fraction of the cost.

    Text whose one whitespace character is the space, without trailing or doubled spaces
    (leading ones allowed), is wrapped here, a line at a time, as textwrap does: its chunks are
    the spaces (a leading run is one chunk) and the pieces its own regular expression splits each
    word into (at hyphens, see :func:`_word_breaks`; whole words without ``break_on_hyphens``); a
    line ends at the last chunk boundary that fits, and a chunk too long for any line is broken
    (or set alone on a line) as textwrap's ``_handle_long_word`` does. Rare shapes (an indent
    wider than the line, a line that would be only the leading spaces) go to textwrap.
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
                end, following = cut, cut + 1
            else:  # the word across the line's end (its characters up to limit are not spaces)
                word_start = cut + 1 if cut >= 0 else value.rfind(" ", 0, start) + 1
                word_end = value.find(" ", limit) % (size + 1)
                word = value[word_start:word_end]
                hyphenated = break_on_hyphens and "-" in word
                bounds = [word_start + offset for offset in _word_breaks(word)] if hyphenated else []
                bounds.append(word_end)  # the ends of the word's chunks
                inside = [bound for bound in bounds if start < bound <= limit]
                end = inside[-1] if inside else max(cut + 1, start)  # the greedy line's end
                following = min(bound for bound in bounds if bound > end)  # the end of the next chunk
            if following - end > room:  # the next chunk fits on no line
                if break_long_words:
                    space_left = limit - end
                    if space_left < 1:
                        break
                    chunk = value[end:following]
                    hyphen = chunk.rfind("-", 0, space_left) if break_on_hyphens else -1
                    end += hyphen + 1 if hyphen > 0 and chunk[:hyphen].strip("-") else space_left
                    lines.append(indent + value[start:end])
                    start = end
                    continue
                if end == start:  # alone on a line, unbroken
                    end = following
            if start == 0 and end <= lead:
                break
            lines.append(indent + value[start : end - 1 if value[end - 1] == " " else end])
            start = end + 1 if end < size and value[end] == " " else end
            if start == size:  # the last chunk, too long for a line, ended the text
                return lines
    # textwrap wraps the rest as it would have when the rest starts with a word, as a line after
    # the first; text cut inside a word is wrapped again from the start.
    if start and value[start - 1] != " ":
        lines, start = [], 0
    indent = subsequent_indent if lines else initial_indent
    return lines + textwrap.wrap(
        value[start:], width, initial_indent=indent, subsequent_indent=subsequent_indent,
        break_long_words=break_long_words, break_on_hyphens=break_on_hyphens,
    )  # fmt: skip


#: textwrap replaces each of its whitespace characters with a space (after expanding tabs).
_LINE_BREAKS_TO_SPACES = str.maketrans(dict.fromkeys("\n\x0b\x0c\r", " "))

#: How textwrap splits text into chunks (hyphenated words into pieces; ``break_on_hyphens``).
_WORDSEP = textwrap.TextWrapper.wordsep_re


@functools.lru_cache(maxsize=8192)
def _word_breaks(word: str) -> tuple[int, ...]:
    """The offsets inside ``word`` (no whitespace) where textwrap's chunks of it meet.

    textwrap splits a whole text into chunks; its expression's look-arounds never see past a
    space, so the chunks of a word are the same alone as in any text.
    """
    offsets: list[int] = []
    position = 0
    for chunk in _WORDSEP.split(word):
        position += len(chunk)
        offsets.append(position)
    return tuple(offset for offset in dict.fromkeys(offsets) if 0 < offset < len(word))
