"""Turn service refusals into messages; never show a traceback to a user."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import streamlit as st

from components.safe_text import plain
from services.rules.errors import DomainError, FieldErrors, summary_of

log = logging.getLogger("portal")
GENERIC = (
    "Não foi possível concluir a operação por um erro inesperado. Nada foi alterado. "
    "Tente de novo em instantes; se persistir, abra um protocolo."
)


class FieldSlots:
    """Places under each form field where its refusal message appears."""

    def __init__(self) -> None:
        self._slots: dict[str, Any] = {}

    def add(self, field: str) -> None:
        self._slots[field] = st.empty()

    def show(self, errors: dict[str, str]) -> dict[str, str]:
        """Each message under its field; the messages of fields without a slot back."""
        left: dict[str, str] = {}
        for field, message in errors.items():
            slot = self._slots.get(field)
            if slot is not None:
                slot.error(plain(message))
            else:
                left[field] = message
        return left


def _summary(errors: dict[str, str], left: dict[str, str]) -> str:
    """Under the form: the problems not shown next to a field, each once, or a pointer."""
    if left:
        also = " Veja também os campos indicados no formulário." if len(left) < len(errors) else ""
        return summary_of(left.values()) + also
    if len(errors) == 1:
        return "Corrija o campo indicado no formulário."
    return f"Corrija os {len(errors)} campos indicados no formulário."


@contextmanager
def user_errors(slots: FieldSlots | None = None) -> Iterator[None]:
    """Show DomainError messages (next to their fields when slots are given)."""
    try:
        yield
    except FieldErrors as exc:
        if slots is None:
            st.error(plain(exc.message))
        else:
            st.error(plain(_summary(exc.errors, slots.show(exc.errors))))
    except DomainError as exc:
        if slots is None or not exc.field:
            st.error(plain(exc.message))
        else:
            errors = {exc.field: exc.message}
            left = slots.show(errors)
            st.error(plain(exc.message if left else _summary(errors, left)))
    except Exception:  # noqa: BLE001 - last line of defence for the user
        log.exception("unexpected error")
        st.error(GENERIC)
