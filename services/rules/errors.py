"""Business refusals raised by the domain rules and the services.

A ``DomainError`` carries a Portuguese message that is safe to show to the
user, and optionally the name of the form field it concerns. Anything that is
not a ``DomainError`` is a bug (see docs/architecture.md, "How a use case works").
"""

from __future__ import annotations

from collections.abc import Iterable


class DomainError(Exception):
    """A business rule refused the request; ``message`` is shown to the user as is."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message: str = message
        self.field: str | None = field

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"DomainError({self.message!r}, field={self.field!r})"


class FieldErrors(DomainError):
    """Several fields refused at once, so a form can show each message next to its field.

    ``errors`` maps field name -> Portuguese message; the summary message lists them.
    """

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors: dict[str, str] = dict(errors)
        first_field = next(iter(self.errors), None)
        super().__init__(summary_of(self.errors.values()), first_field)

    def __repr__(self) -> str:
        return f"FieldErrors({self.errors!r})"


def problems_joined(messages: Iterable[str]) -> str:
    """Problems in one line, each once and without its own final punctuation: "a; b."

    Used wherever several messages share one cell or box (a batch line's refusals and
    warnings), so no ".;" or ".." is ever shown."""
    problems: list[str] = []
    for message in messages:
        text = " ".join(str(message).split()).rstrip(" .;:")
        if text and text not in problems:
            problems.append(text)
    return "; ".join(problems) + "." if problems else ""


def summary_of(messages: Iterable[str]) -> str:
    """One sentence listing each problem once: "Corrija os campos indicados: a; b."

    Each message loses its own final punctuation (no ".;" or ".."), and a message
    repeated by several fields is listed once.
    """
    return "Corrija os campos indicados: " + problems_joined(messages)
