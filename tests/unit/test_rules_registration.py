"""Company contact data and portal users: what a master may type, checked and cleaned."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.rules.documents import cpf_check_digits
from services.rules.errors import DomainError, FieldErrors
from services.rules.formats import format_phone
from services.rules.registration import (
    AREA_CODES,
    CONTACT_FIELDS,
    UFS,
    UserData,
    clean_company_contact,
    clean_user,
    permissions_escalated,
    phone_problem,
)


def cpf(base: str) -> str:
    return base + cpf_check_digits(base)


VALID_CPF = cpf("529982247")  # 52998224725
OTHER_CPF = cpf("111444777")  # 11144477735
LEADING_ZERO_CPF = cpf("012345678")


def contact(**overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "cep": "01310-100",
        "street": "Avenida Paulista",
        "number": "1000",
        "complement": "Conjunto 52",
        "neighbourhood": "Bela Vista",
        "city": "São Paulo",
        "state": "SP",
        "phone": "(11) 3333-4444",
        "contact_name": "Ana Recursos Humanos",
        "contact_email": "rh@empresa.com.br",
    }
    values.update(overrides)
    return values


def contact_errors(**overrides: object) -> dict[str, str]:
    with pytest.raises(FieldErrors) as err:
        clean_company_contact(contact(**overrides))
    return err.value.errors


def user_errors(name: object, cpf_value: object, email: object) -> dict[str, str]:
    with pytest.raises(FieldErrors) as err:
        clean_user(name, cpf_value, email)
    return err.value.errors


# ---------------------------------------------------------------- constants


def test_ufs_are_the_27_federative_units() -> None:
    assert len(UFS) == 27
    assert {"SP", "RJ", "MG", "DF", "AC", "TO", "RR", "AP"} <= UFS
    assert "XX" not in UFS
    assert "sp" not in UFS
    assert all(len(uf) == 2 and uf.isupper() for uf in UFS)


def test_area_codes_are_exactly_the_67_brazilian_ddds() -> None:
    expected = (
        set(range(11, 20))
        | {21, 22, 24, 27, 28}
        | {31, 32, 33, 34, 35, 37, 38}
        | set(range(41, 50))
        | {51, 53, 54, 55}
        | set(range(61, 70))
        | {71, 73, 74, 75, 77, 79}
        | set(range(81, 90))
        | set(range(91, 100))
    )
    assert len(expected) == 67
    assert set(AREA_CODES) == expected


@pytest.mark.parametrize("ddd", [10, 20, 23, 25, 26, 29, 30, 36, 39, 50, 52, 56, 60, 70, 72, 80])
def test_area_codes_that_do_not_exist_are_not_listed(ddd: int) -> None:
    assert ddd not in AREA_CODES


# ---------------------------------------------------------------- phones


@pytest.mark.parametrize(
    "phone",
    [
        "1133334444",
        "(11) 3333-4444",
        "11987654321",
        "(11) 98765-4321",
        "+ (21) 2222 3333",
        "99 99999 9999",
        "61 3333-4444",
    ],
)
def test_phone_with_area_code_and_10_or_11_digits_is_accepted(phone: str) -> None:
    assert phone_problem(phone) is None


@pytest.mark.parametrize(
    "phone", ["", "3333-4444", "113333444", "119876543210", "55 11 98765-4321", "telefone"]
)
def test_phone_without_10_or_11_digits_is_refused(phone: str) -> None:
    problem = phone_problem(phone)
    assert problem is not None
    assert "Telefone inválido" in problem
    assert "10 ou 11 dígitos" in problem


@pytest.mark.parametrize("ddd", ["20", "23", "25", "26", "00", "10", "90"])
@pytest.mark.parametrize("number", ["33334444", "987654321"])
def test_phone_with_an_area_code_that_does_not_exist_is_refused(ddd: str, number: str) -> None:
    problem = phone_problem(f"({ddd}) {number}")
    assert problem == f"Telefone inválido: o DDD {ddd} não existe."


@pytest.mark.parametrize("phone", ["11887654321", "(21) 3333-44445", "11087654321"])
def test_an_11_digit_number_must_start_with_9_after_the_area_code(phone: str) -> None:
    problem = phone_problem(phone)
    assert problem is not None
    assert problem.startswith("Celular inválido")
    assert "começa por 9" in problem


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("1133334444", "(11) 3333-4444"),
        ("11987654321", "(11) 98765-4321"),
        ("(11) 3333-4444", "(11) 3333-4444"),
        ("11 9 8765 4321", "(11) 98765-4321"),
        ("21-2222-3333", "(21) 2222-3333"),
    ],
)
def test_format_phone_masks_10_and_11_digit_numbers(raw: str, shown: str) -> None:
    assert format_phone(raw) == shown


@pytest.mark.parametrize("raw", ["", "123", "ramal 12", "119876543210"])
def test_format_phone_leaves_anything_else_as_it_is(raw: str) -> None:
    assert format_phone(raw) == raw


# ---------------------------------------------------------------- company contact


def test_valid_contact_is_cleaned_and_normalised() -> None:
    out = clean_company_contact(
        contact(
            cep=" 01310-100 ",
            street="  Avenida   Paulista ",
            neighbourhood="Bela\tVista",
            city=" São  Paulo",
            state=" sp ",
            phone="(11) 98765-4321",
            contact_name=" Ana   RH ",
            contact_email=" RH@Empresa.COM.br ",
        )
    )
    assert out == {
        "cep": "01310100",
        "street": "Avenida Paulista",
        "number": "1000",
        "complement": "Conjunto 52",
        "neighbourhood": "Bela Vista",
        "city": "São Paulo",
        "state": "SP",
        "phone": "11987654321",
        "contact_name": "Ana RH",
        "contact_email": "rh@empresa.com.br",
    }


def test_contact_returns_exactly_the_contact_fields() -> None:
    out = clean_company_contact(contact(name="Outra Razão", document="123"))
    assert tuple(out) == CONTACT_FIELDS
    assert "name" not in out and "document" not in out


@pytest.mark.parametrize("empty", [None, "", "   ", "\t\n"])
def test_complement_is_optional_and_empty_becomes_none(empty: object) -> None:
    out = clean_company_contact(contact(complement=empty))
    assert out["complement"] is None


def test_complement_may_be_left_out_entirely() -> None:
    values = contact()
    del values["complement"]
    assert clean_company_contact(values)["complement"] is None


@pytest.mark.parametrize(
    ("field", "label"),
    [
        ("cep", "CEP"),
        ("street", "Logradouro"),
        ("number", "Número"),
        ("neighbourhood", "Bairro"),
        ("city", "Cidade"),
        ("state", "UF"),
        ("phone", "Telefone"),
        ("contact_name", "Nome do contato"),
        ("contact_email", "E-mail do contato"),
    ],
)
@pytest.mark.parametrize("empty", [None, "", "   "])
def test_every_contact_field_but_the_complement_is_required(
    field: str, label: str, empty: object
) -> None:
    assert contact_errors(**{field: empty}) == {field: f"Informe o campo {label}."}


def test_an_empty_form_lists_every_required_field_at_once() -> None:
    with pytest.raises(FieldErrors) as err:
        clean_company_contact({})
    assert set(err.value.errors) == set(CONTACT_FIELDS) - {"complement"}
    assert isinstance(err.value, DomainError)
    assert err.value.field == "cep"
    assert err.value.message.startswith("Corrija os campos indicados: ")
    assert "Informe o campo Cidade" in err.value.message
    assert ".;" not in err.value.message and err.value.message.endswith(".")


@pytest.mark.parametrize(
    ("field", "label", "limit"),
    [
        ("street", "Logradouro", 200),
        ("number", "Número", 20),
        ("complement", "Complemento", 100),
        ("neighbourhood", "Bairro", 100),
        ("city", "Cidade", 100),
        ("contact_name", "Nome do contato", 200),
    ],
)
def test_text_fields_have_a_maximum_length(field: str, label: str, limit: int) -> None:
    assert clean_company_contact(contact(**{field: "a" * limit}))[field] == "a" * limit
    errors = contact_errors(**{field: "a" * (limit + 1)})
    assert errors == {field: f"{label}: no máximo {limit} caracteres (informados {limit + 1})."}


def test_the_length_limit_counts_after_collapsing_whitespace() -> None:
    street = "a  " * 67  # 201 characters typed, "a a ... a" = 133 after collapsing
    assert clean_company_contact(contact(street=street))["street"] == " ".join(["a"] * 67)


@pytest.mark.parametrize("cep", ["0131010", "013101000", "00000-000", "abcde-fgh", "01310_100"])
def test_invalid_cep_is_refused(cep: str) -> None:
    errors = contact_errors(cep=cep)
    assert set(errors) == {"cep"}
    assert "CEP inválido" in errors["cep"]
    assert "8 dígitos" in errors["cep"]


@pytest.mark.parametrize("cep", ["01310100", "01310-100", "01.310-100", " 01310 100 "])
def test_cep_is_kept_as_8_digits(cep: str) -> None:
    assert clean_company_contact(contact(cep=cep))["cep"] == "01310100"


@pytest.mark.parametrize("state", ["XX", "S", "SPA", "São Paulo", "S P", "1A"])
def test_invalid_state_is_refused(state: str) -> None:
    errors = contact_errors(state=state)
    assert set(errors) == {"state"}
    assert "UF inválida" in errors["state"]


@pytest.mark.parametrize(("state", "clean"), [("rj", "RJ"), ("Df", "DF"), (" mg ", "MG")])
def test_state_is_upper_cased(state: str, clean: str) -> None:
    assert clean_company_contact(contact(state=state))["state"] == clean


@pytest.mark.parametrize(
    ("phone", "fragment"),
    [
        ("3333-4444", "10 ou 11 dígitos"),
        ("(20) 3333-4444", "DDD 20 não existe"),
        ("(25) 98765-4321", "DDD 25 não existe"),
        ("(11) 88765-4321", "começa por 9"),
    ],
)
def test_invalid_phone_is_refused_with_its_reason(phone: str, fragment: str) -> None:
    errors = contact_errors(phone=phone)
    assert set(errors) == {"phone"}
    assert fragment in errors["phone"]


@pytest.mark.parametrize(
    ("phone", "digits"),
    [
        ("(11) 3333-4444", "1133334444"),
        ("11 9 8765-4321", "11987654321"),
        (1133334444, "1133334444"),
    ],
)
def test_phone_is_kept_as_digits(phone: object, digits: str) -> None:
    assert clean_company_contact(contact(phone=phone))["phone"] == digits


@pytest.mark.parametrize(
    "email", ["rh", "rh@", "@empresa.com.br", "rh@empresa", "rh@@empresa.com.br", "r,h@x.com"]
)
def test_invalid_contact_email_is_refused(email: str) -> None:
    errors = contact_errors(contact_email=email)
    assert set(errors) == {"contact_email"}
    assert "E-mail inválido" in errors["contact_email"]


def test_contact_email_is_lower_cased_and_loses_its_spaces() -> None:
    out = clean_company_contact(contact(contact_email=" Financeiro @ Empresa.COM.BR "))
    assert out["contact_email"] == "financeiro@empresa.com.br"


def test_every_bad_contact_field_is_reported_at_once() -> None:
    errors = contact_errors(
        cep="123", state="ZZ", phone="(23) 3333-4444", contact_email="x@", city=""
    )
    assert set(errors) == {"cep", "state", "phone", "contact_email", "city"}


def test_non_text_values_are_taken_as_text() -> None:
    out = clean_company_contact(contact(number=1000, cep=1310100 + 10_000_000))
    assert out["number"] == "1000"
    assert out["cep"] == "11310100"


# ---------------------------------------------------------------- users


def test_valid_user_is_cleaned() -> None:
    data = clean_user("  Maria   da\tSilva ", "529.982.247-25", "  Maria.Silva@Empresa.COM.br ")
    assert data == UserData(
        name="Maria da Silva", cpf=VALID_CPF, email="maria.silva@empresa.com.br"
    )


@pytest.mark.parametrize("base", ["529982247", "111444777", "012345678", "000000001", "987654321"])
def test_cpfs_with_right_check_digits_are_accepted(base: str) -> None:
    number = cpf(base)
    formatted = f"{number[:3]}.{number[3:6]}.{number[6:9]}-{number[9:]}"
    assert clean_user("Ana Souza", number, "ana@x.com.br").cpf == number
    assert clean_user("Ana Souza", formatted, "ana@x.com.br").cpf == number


@pytest.mark.parametrize(
    "bad_cpf",
    [
        VALID_CPF[:-1] + str((int(VALID_CPF[-1]) + 1) % 10),
        VALID_CPF[:-2] + str((int(VALID_CPF[-2]) + 1) % 10) + VALID_CPF[-1],
        "11111111111",
        "00000000000",
        VALID_CPF[:10],
        VALID_CPF + "0",
        LEADING_ZERO_CPF[1:],
        "abc.def.ghi-jk1",
    ],
)
def test_invalid_cpfs_are_refused(bad_cpf: str) -> None:
    assert user_errors("Ana Souza", bad_cpf, "ana@x.com.br") == {
        "cpf": "CPF inválido: confira os 11 dígitos informados."
    }


@pytest.mark.parametrize("empty", [None, "", "   ", "..-"])
def test_missing_cpf_is_refused(empty: object) -> None:
    assert user_errors("Ana Souza", empty, "ana@x.com.br") == {"cpf": "Informe o CPF do usuário."}


@pytest.mark.parametrize("empty", [None, "", "  \t "])
def test_missing_name_is_refused(empty: object) -> None:
    assert user_errors(empty, VALID_CPF, "ana@x.com.br") == {"name": "Informe o nome do usuário."}


@pytest.mark.parametrize("name", ["Ana", "  Ana  ", "Maria-Clara"])
def test_a_single_word_name_is_refused(name: str) -> None:
    errors = user_errors(name, VALID_CPF, "ana@x.com.br")
    assert set(errors) == {"name"}
    assert "nome completo" in errors["name"]


def test_the_name_has_at_most_200_characters() -> None:
    longest = "Ana " + "S" * 196
    assert clean_user(longest, VALID_CPF, "ana@x.com.br").name == longest
    errors = user_errors(longest + "s", VALID_CPF, "ana@x.com.br")
    assert errors == {"name": "Nome: no máximo 200 caracteres (informados 201)."}


@pytest.mark.parametrize("empty", [None, "", "   "])
def test_missing_email_is_refused(empty: object) -> None:
    assert user_errors("Ana Souza", VALID_CPF, empty) == {"email": "Informe o e-mail do usuário."}


@pytest.mark.parametrize(
    "email",
    ["ana", "ana@", "ana@x", "ana souza@x.com.br", "ana@x..com", "a" * 65 + "@x.com.br"],
)
def test_invalid_email_is_refused(email: str) -> None:
    errors = user_errors("Ana Souza", VALID_CPF, email)
    assert set(errors) == {"email"}
    assert "E-mail inválido" in errors["email"]


def test_every_bad_user_field_is_reported_at_once() -> None:
    with pytest.raises(FieldErrors) as err:
        clean_user("", "123", "x@")
    assert set(err.value.errors) == {"name", "cpf", "email"}
    assert err.value.field == "name"
    assert "CPF inválido" in err.value.message


# ---------------------------------------------------------------- permissions


def test_permissions_escalated_lists_what_the_grantor_does_not_hold() -> None:
    own = ["movements", "reports", "user_admin"]
    assert permissions_escalated(["movements", "reports"], own) == []
    assert permissions_escalated([], own) == []
    assert permissions_escalated(["finance", "movements", "finance", "personal_data"], own) == [
        "finance",
        "personal_data",
    ]
    assert permissions_escalated(["reports"], []) == ["reports"]


# ---------------------------------------------------------------- properties

_ANY_VALUE = st.one_of(
    st.none(),
    st.text(),
    st.text(alphabet="0123456789()- .@abcSPsp", max_size=30),
    st.integers(),
)


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={key: _ANY_VALUE for key in CONTACT_FIELDS}
        | {"name": _ANY_VALUE, "extra": _ANY_VALUE},
    )
)
def test_clean_company_contact_only_ever_refuses_with_field_errors(raw: dict[str, object]) -> None:
    try:
        out = clean_company_contact(raw)
    except FieldErrors as err:
        assert err.errors
        assert set(err.errors) <= set(CONTACT_FIELDS)
        assert all(isinstance(m, str) and m for m in err.errors.values())
        return
    # Accepted: what is stored fits the columns and has its clean shape.
    assert set(out) == set(CONTACT_FIELDS)
    assert out["cep"] is not None and re.fullmatch(r"[0-9]{8}", out["cep"])
    assert out["state"] in UFS
    assert out["phone"] is not None and re.fullmatch(r"[0-9]{10,11}", out["phone"])
    assert phone_problem(out["phone"]) is None
    assert out["contact_email"] == (out["contact_email"] or "").lower()


@settings(max_examples=300, deadline=None)
@given(_ANY_VALUE, _ANY_VALUE, _ANY_VALUE)
def test_clean_user_only_ever_refuses_with_field_errors(
    name: object, cpf_value: object, email: object
) -> None:
    try:
        data = clean_user(name, cpf_value, email)
    except FieldErrors as err:
        assert err.errors
        assert set(err.errors) <= {"name", "cpf", "email"}
        return
    assert re.fullmatch(r"[0-9]{11}", data.cpf)
    assert 0 < len(data.name) <= 200
    assert data.email == data.email.lower() == data.email.strip()


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_every_cpf_built_with_its_check_digits_is_accepted(base: str) -> None:
    number = cpf(base)
    if len(set(number)) == 1:
        return  # all-equal digits are never a valid CPF
    assert clean_user("Ana Souza", number, "ana@x.com.br").cpf == number


@pytest.mark.parametrize("field", CONTACT_FIELDS)
@pytest.mark.parametrize("char", ["\x00", "\x1b", "\u202e", "\u2066", "\u200b", "\ufeff"])
def test_contact_fields_refuse_control_and_bidi_format_characters(field: str, char: str) -> None:
    value = str(contact()[field] or "Sala 1")
    errors = contact_errors(**{field: f"{value[:1]}{char}{value[1:]}"})
    assert set(errors) == {field}
    label = errors[field].split(":")[0]
    assert (
        errors[field]
        == f"{label}: use só letras, números e pontuação (sem caracteres de controle)."
    )


def test_a_bidi_override_in_the_contact_name_is_refused_with_its_label() -> None:
    errors = contact_errors(contact_name="Ana \u202eatsoC")
    assert errors == {
        "contact_name": "Nome do contato: use só letras, números e pontuação "
        "(sem caracteres de controle)."
    }


def test_a_users_name_refuses_control_characters() -> None:
    errors = user_errors("Ana\x1b[31m Souza", VALID_CPF, "ana@x.com.br")
    assert errors == {
        "name": "Nome: use só letras, números e pontuação (sem caracteres de controle)."
    }
