"""Errors the generator reports to its users as one line, without a traceback."""

from __future__ import annotations


class CodegenError(Exception):
    """A problem with the user's input or request; the CLI prints it on one line and exits 2."""

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))

    @property
    def message(self) -> str:
        return str(self)


class DocumentError(CodegenError):
    """A discovery document is malformed; the message names the file and the JSON path."""

    def __init__(self, source: str, path: str, problem: str) -> None:
        self.source = source
        self.path = path
        self.problem = problem
        super().__init__(f"{source}: {path}: {problem}")


def one_line(text: str, limit: int = 300) -> str:
    """Collapse ``text`` to a single printable line of at most ``limit`` characters."""
    flat = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
