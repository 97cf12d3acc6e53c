"""DomainError: a Portuguese message safe to show, with an optional field."""

import pytest

from services.rules.errors import DomainError


def test_domain_error_str_is_the_message() -> None:
    error = DomainError("CPF inválido.", "cpf")
    assert str(error) == "CPF inválido."
    assert error.message == "CPF inválido."
    assert error.field == "cpf"


def test_domain_error_field_defaults_to_none() -> None:
    assert DomainError("Recusado.").field is None


def test_domain_error_can_be_raised_and_caught_as_exception() -> None:
    with pytest.raises(Exception, match="Recusado"):
        raise DomainError("Recusado.")


def test_problems_joined_lists_each_problem_once_without_doubled_punctuation() -> None:
    from services.rules.errors import problems_joined

    joined = problems_joined(["CPF inválido.", "Informe o nome.", "CPF inválido.", " Data; "])
    assert joined == "CPF inválido; Informe o nome; Data."
    assert ".;" not in joined and ".." not in joined
    assert problems_joined([]) == ""
