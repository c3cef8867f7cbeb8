"""codegen.text: untrusted descriptions in docstrings and comments cannot become code.

Property tests over arbitrary text (every Unicode category, lone surrogates, and the
fragments that break naive escaping): the escaped text compiles in both places the
templates put docstrings, reads back as the original, and holds no character that could
end a line, end the string, or reorder what a reader sees (Trojan Source).
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
import unicodedata
from collections.abc import Callable

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from codegen import text

FRAGMENTS = [
    '"',
    '"""',
    "'''",
    "\\",
    '\\"',
    "\n",
    "\r",
    "\r\n",
    "\x00",
    "\x0b",
    "\x0c",
    "\x1c",
    "\x85",
    "\u2028",
    "\u2029",
    "\u202e",
    "\u2066",
    "\u200f",
    "\ufeff",
    "\ud800",
    "\U000e0041",
    "\t",
    "#",
    "{{",
    "}}",
    "\\N{BULLET}",
    "\\x41",
    "import os",
    "\x1b[2J",
]
TEXT = st.one_of(
    st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=60),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=3)), max_size=12).map("".join),
)
SETTINGS = settings(
    max_examples=400, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)
UNSAFE = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}


def _normalized(value: str) -> str:
    lines = value.replace("\r\n", "\n").replace("\r", "\n").expandtabs(4).split("\n")
    text = "\n".join(line.rstrip() for line in lines).strip("\n")
    # Lone surrogates read as their escape (tabs were expanded first, as the generator does).
    return re.sub("[\ud800-\udfff]", lambda match: f"\\u{ord(match.group()):04x}", text) or "Undocumented."


def _visible_characters_only(source: str) -> None:
    for char in source:
        assert char == "\n" or unicodedata.category(char) not in UNSAFE, f"{char!r} reached the source"


@SETTINGS
@given(TEXT)
@example('\ud800\t"')  # a surrogate before a tab: tabs expand before surrogates become text
@example('"""')
def test_docstrings_read_back_as_the_text_and_hold_no_unsafe_character(value: str) -> None:
    escaped = text.docstring(value)
    _visible_characters_only(escaped)
    # Both ways the templates place a docstring: on one line, and indented with the quotes below.
    one_line = f'"""{escaped}"""'
    # A class, not a function: CPython encodes class docstrings as UTF-8 when creating the class.
    indented = 'class f:\n    """' + escaped.replace("\n", "\n    ") + '\n    """\n'
    assert ast.literal_eval(one_line) == _normalized(value)
    module = ast.parse(indented)
    assert len(module.body) == 1 and len(module.body[0].body) == 1  # type: ignore[attr-defined]
    namespace: dict[str, object] = {}
    exec(compile(module, "<docstring>", "exec"), namespace)  # the generated form, executed
    doc = namespace["f"].__doc__  # type: ignore[attr-defined]
    assert doc.replace("\n    ", "\n").rstrip(" ").removesuffix("\n") == _normalized(value)


@SETTINGS
@given(TEXT)
def test_comment_lines_stay_comments(value: str) -> None:
    lines = text.comment_lines(value)
    source = "x = 1\n" + "".join(f"    # {line}\n" for line in lines)
    _visible_characters_only(source)
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    kinds = {token.type for token in tokens[4:]}  # after "x = 1"
    assert kinds <= {tokenize.NEWLINE, tokenize.NL, tokenize.COMMENT, tokenize.ENDMARKER}, kinds
    assert all(len(line) <= 88 or " " not in line.strip() for line in lines)  # a long word stays whole


def test_known_breakouts_are_neutralized() -> None:
    attack = '"""\nimport os; os.system("id")\n"""'
    assert ast.literal_eval(f'"""{text.docstring(attack)}"""') == attack
    trojan = "access = 'user' \u202e } \u2066 if admin \u2069 \u2066"
    escaped = text.docstring(trojan)
    assert "\u202e" not in escaped and "\\u202e" in escaped
    assert text.docstring('ends with a quote"') == 'ends with a quote\\"'
    assert text.docstring("ends with a backslash\\") == "ends with a backslash\\\\"
    assert text.comment_lines("one\rtwo\u2028three\x00") == ("one", "two\\u2028three\\x00")


WRAP_WORDS = ["a", "word", "long-running", "e.g.", "x-y", "ab-", "-cd", "abc--def", "ok.--", "1-2", "-", "--",
              "`//compute.googleapis.com/projects/{ID}`", "verylongwordwithoutspaces", "a-b-c", "self-con-tained",
              "UTF-8", "re-use", "--flag", "x---y", "é-ço-ü", "over-the-top-long-hyphenated-word", "a-",
              "projects/my-project/locations/us-central1"]  # fmt: skip
WRAP_TEXT = st.one_of(
    st.lists(st.sampled_from(WRAP_WORDS), max_size=30).map(" ".join),  # the common case: words and single spaces
    st.text(alphabet=st.sampled_from("ab c-.,_1é—'\"!?&\t\n\xa0\u2003x"), max_size=120),
    st.lists(st.sampled_from(["word", "a", " ", "  ", "-", "--", "long-running", "e.g.", "x-y", "ab-", "-cd",
                              "abc--def", "ok.--", "1-2", "over-the-top", "\t", "verylongwordwithoutspaces"]),
             max_size=30).map("".join),
)  # fmt: skip


@given(
    WRAP_TEXT,
    st.integers(min_value=9, max_value=40),  # wider than the indents (textwrap can loop forever otherwise)
    st.sampled_from(["", " ", "    "]),
    st.sampled_from(["", "  ", "        "]),
)
@SETTINGS
@example("Indicates the long-running operation's state -- or not.", 20, "    ", "        ")
@example("     abcdefgh", 8, "", "")
@example("no width", 0, "", "")
@example("   Full URL:https://www.googleapis.com/compute/v1/projects/p/zones/z/disk-types/t x", 30, "", "  ")
@example("a `//compute.googleapis.com/projects/{ID}/x-y` b", 12, "    ", "  ")
@example("a format: `//compute.googleapis.com/projects/{ID}/x` b", 30, "    ", "        ")
@example("see https://cloud.google.com/kubernetes-engine/docs/how-to/x-y for more", 30, "", "  ")
def test_wrap_words_is_textwrap_without_breaking_words(value: str, width: int, initial: str, subsequent: str) -> None:
    """text.wrap_words is textwrap.wrap at spaces only (no long-word or hyphen breaks), exactly
    (or the same error)."""
    import textwrap

    def outcome(wrap: Callable[..., list[str]]) -> object:
        try:
            return wrap(value, width, initial_indent=initial, subsequent_indent=subsequent)
        except ValueError as exc:
            return f"ValueError: {exc}"

    def reference(text: str, width: int, **indents: str) -> list[str]:
        return textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False, **indents)

    assert outcome(text.wrap_words) == outcome(reference)
