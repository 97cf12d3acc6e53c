"""Turn service refusals into messages; never show a traceback to a user."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import streamlit as st

from components.safe_text import plain
from services.rules.errors import DomainError, FieldErrors

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

    def show(self, errors: dict[str, str]) -> None:
        for field, message in errors.items():
            slot = self._slots.get(field)
            if slot is not None:
                slot.error(plain(message))


@contextmanager
def user_errors(slots: FieldSlots | None = None) -> Iterator[None]:
    """Show DomainError messages (next to their fields when slots are given)."""
    try:
        yield
    except FieldErrors as exc:
        if slots is not None:
            slots.show(exc.errors)
        st.error(plain(exc.message))
    except DomainError as exc:
        if slots is not None and exc.field:
            slots.show({exc.field: exc.message})
        st.error(plain(exc.message))
    except Exception:  # noqa: BLE001 - last line of defence for the user
        log.exception("unexpected error")
        st.error(GENERIC)
