"""Password composition rule (operator's access policy, LGPD art. 46)."""

import pytest

from services.rules.passwords import password_problems


@pytest.mark.parametrize("password", ["Sorriso@2026", "Aa1!aaaa", "Dente Forte#9", "Ção1234$"])
def test_strong_password_has_no_problem(password: str) -> None:
    assert password_problems(password) == []


@pytest.mark.parametrize(
    ("password", "fragment"),
    [
        ("Sor@26a", "8 caracteres"),
        ("sorriso@2026", "maiúscula"),
        ("SORRISO@2026", "minúscula"),
        ("Sorriso@abcd", "número"),
        ("Sorriso2026", "símbolo"),
        ("Sorriso 2026", "símbolo"),  # a space is not a symbol
    ],
)
def test_weak_password_gets_exactly_one_problem(password: str, fragment: str) -> None:
    problems = password_problems(password)
    assert len(problems) == 1
    assert fragment in problems[0]


def test_empty_password_lists_every_problem() -> None:
    assert len(password_problems("")) == 5


@pytest.mark.parametrize(
    ("password", "user_code"),
    [("Rh.Empresa1", "rh.empresa"), ("X!1ab12345678", "12345678"), ("MARIA@2026a", "maria")],
)
def test_password_may_not_contain_the_user_code(password: str, user_code: str) -> None:
    assert password_problems(password, user_code=user_code) == [
        "A senha não pode conter o código do usuário."
    ]


def test_blank_user_code_is_ignored() -> None:
    assert password_problems("Sorriso@2026", user_code="  ") == []


def test_a_password_with_spaces_around_it_is_refused_because_login_trims_them():
    from services.rules.passwords import password_problems

    assert "A senha não pode começar nem terminar com espaço." in password_problems(" Sorriso@2026")
    assert password_problems("Sorriso@2026") == []


# bcrypt reads only 72 bytes (UTF-8): longer passwords are refused, never cut.
def test_72_ascii_characters_are_accepted_and_73_refused() -> None:
    from services.rules.passwords import TOO_LONG_MESSAGE

    assert password_problems("Aa1!" + "x" * 68) == []
    assert password_problems("Aa1!" + "x" * 69) == [TOO_LONG_MESSAGE]


def test_accented_letters_count_as_two_bytes() -> None:
    from services.rules.passwords import TOO_LONG_MESSAGE, password_too_long

    at_limit = "Ã1!" + "ã" * 34  # 37 characters, 72 bytes
    assert len(at_limit) == 37 and len(at_limit.encode()) == 72
    assert password_problems(at_limit) == []
    over = at_limit + "é"  # 38 characters, 74 bytes
    assert password_too_long(over)
    assert password_problems(over) == [TOO_LONG_MESSAGE]
    assert "acentuadas" in TOO_LONG_MESSAGE and "72" in TOO_LONG_MESSAGE


def test_the_policy_summary_states_both_length_limits() -> None:
    from services.rules.passwords import MAX_BYTES, MIN_LENGTH, POLICY_SUMMARY

    assert f"De {MIN_LENGTH} a {MAX_BYTES} caracteres" in POLICY_SUMMARY
