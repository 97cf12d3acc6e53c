"""Free text: one rule for every field's maximum length and forbidden characters."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.rules.text import PROTOCOL_DESCRIPTION_MAX, text_problem

# C0/C1 controls, bidi overrides and isolates, zero-width and BOM, line separators.
FORBIDDEN = [
    "\x00",
    "\x07",
    "\x1b",
    "\x7f",
    "\x85",
    "\u200b",
    "\u200d",
    "\u200e",
    "\u202a",
    "\u202e",
    "\u2066",
    "\u2069",
    "\u2028",
    "\u2029",
    "\ufeff",
]


def test_ordinary_text_passes() -> None:
    assert text_problem("Rua São João, 1º andar (fundos) - 50% & cia.", "Logradouro", 200) is None


def test_text_at_the_limit_passes_and_one_more_character_is_refused() -> None:
    assert text_problem("a" * 200, "Logradouro", 200) is None
    assert text_problem("a" * 201, "Logradouro", 200) == (
        "Logradouro: no máximo 200 caracteres (informados 201)."
    )


def test_large_limits_are_written_the_brazilian_way() -> None:
    too_long = "a" * (PROTOCOL_DESCRIPTION_MAX + 1)
    message = text_problem(too_long, "Descrição", PROTOCOL_DESCRIPTION_MAX, multiline=True)
    assert message == "Descrição: no máximo 4.000 caracteres (informados 4.001)."
    assert text_problem("a" * 1_234_568, "Nota", 1_234_567) == (
        "Nota: no máximo 1.234.567 caracteres (informados 1.234.568)."
    )


@pytest.mark.parametrize("char", FORBIDDEN)
def test_control_and_format_characters_are_refused(char: str) -> None:
    message = text_problem(f"abc{char}def", "Nome do contato", 200)
    assert message == (
        "Nome do contato: use só letras, números e pontuação (sem caracteres de controle)."
    )
    assert text_problem(f"abc{char}def", "Descrição", 4000, multiline=True) is not None


def test_line_breaks_and_tabs_only_in_multi_line_text() -> None:
    assert text_problem("linha 1\nlinha 2\r\n\tfim", "Descrição", 4000, multiline=True) is None
    assert text_problem("linha 1\nlinha 2", "Assunto", 200) is not None


@given(st.text(alphabet=st.characters(categories=["L", "N", "P", "S"], include_characters=" ")))
def test_letters_digits_punctuation_symbols_and_spaces_always_pass(value: str) -> None:
    assert text_problem(value, "Campo", len(value)) is None


@given(st.text(alphabet=st.characters(categories=["Cc", "Cf"]), min_size=1, max_size=5))
def test_any_control_or_format_character_is_refused(bad: str) -> None:
    assert text_problem("a" + bad, "Campo", 50, multiline=True) is not None or all(
        c in "\n\r\t" for c in bad
    )
