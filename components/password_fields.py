"""The new-password pair of the forms that set a password (activation, reset)."""

from __future__ import annotations

import streamlit as st

from components.errors import FieldSlots
from services.rules.passwords import POLICY_SUMMARY


def new_password_fields(
    slots: FieldSlots, *, label: str = "Senha", confirm_label: str = "Confirme sua senha"
) -> tuple[str, str]:
    """The password and its confirmation, each with its message slot ("password",
    "confirmation"), and the policy under them. Call inside a form."""
    password = st.text_input(f"{label} *", type="password", help=POLICY_SUMMARY)
    slots.add("password")
    confirmation = st.text_input(f"{confirm_label} *", type="password")
    slots.add("confirmation")
    st.caption(POLICY_SUMMARY)
    return password, confirmation
