"""Company contact data and portal users: what a master may type, checked and cleaned.

Pure functions: each returns the cleaned values or raises ``FieldErrors`` with one
Portuguese message per refused field, so a form can show it next to the field.

Sources: CPF per IN RFB nº 1.548/2015 (checked in ``documents``); telephone numbers per
Anatel's numbering plan, with the national area codes (DDD) in use and the ninth digit
of mobile numbers (Anatel Resolução nº 553/2010); the 27 federative units per IBGE;
the user's personal data kept to what access control needs (Lei 13.709/2018, LGPD;
docs/domain/lgpd.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from services.rules.documents import is_valid_cep, is_valid_cpf, is_valid_email, only_digits
from services.rules.errors import FieldErrors
from services.rules.text import PERSON_NAME_MAX, text_problem

# The 27 federative units (IBGE).
_UF_LIST = "AC AL AM AP BA CE DF ES GO MA MG MS MT PA PB PE PI PR RJ RN RO RR RS SC SE SP TO"
UFS = frozenset(_UF_LIST.split(" "))
# Area codes (DDD) in use in Brazil (Anatel's numbering plan).
AREA_CODES = frozenset(
    [11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 22, 24, 27, 28, 31, 32, 33, 34, 35, 37, 38]
    + [41, 42, 43, 44, 45, 46, 47, 48, 49, 51, 53, 54, 55, 61, 62, 63, 64, 65, 66, 67, 68]
    + [69, 71, 73, 74, 75, 77, 79, 81, 82, 83, 84, 85, 86, 87, 88, 89, 91, 92, 93, 94, 95]
    + [96, 97, 98, 99]
)

# The fields of "Meus dados" a company may change itself; the rest (document, code,
# name) changes only by a request to the operator.
CONTACT_FIELDS = (
    "cep",
    "street",
    "number",
    "complement",
    "neighbourhood",
    "city",
    "state",
    "phone",
    "contact_name",
    "contact_email",
)
CONTACT_LABELS = {
    "cep": "CEP",
    "street": "Logradouro",
    "number": "Número",
    "complement": "Complemento",
    "neighbourhood": "Bairro",
    "city": "Cidade",
    "state": "UF",
    "phone": "Telefone",
    "contact_name": "Nome do contato",
    "contact_email": "E-mail do contato",
}
# Maximum lengths as typed (the company table's columns). CEP, UF and phone are then
# checked for their format, which says more than a length would.
_MAX_LENGTHS = {
    "cep": 20,
    "street": 200,
    "number": 20,
    "complement": 100,
    "neighbourhood": 100,
    "city": 100,
    "state": 20,
    "phone": 20,
    "contact_name": PERSON_NAME_MAX,
    "contact_email": 254,
}


def _text(raw: Mapping[str, object], key: str) -> str:
    value = raw.get(key)
    return " ".join(str(value).split()) if value is not None else ""


def phone_problem(phone: str) -> str | None:
    """None for a Brazilian number with area code: 10 digits (landline) or 11 (mobile, 9...)."""
    digits = only_digits(phone)
    if len(digits) not in (10, 11):
        return "Telefone inválido: informe DDD + número (10 ou 11 dígitos)."
    if int(digits[:2]) not in AREA_CODES:
        return f"Telefone inválido: o DDD {digits[:2]} não existe."
    if len(digits) == 11 and digits[2] != "9":
        return "Celular inválido: com 11 dígitos o número começa por 9 depois do DDD."
    return None


def clean_company_contact(raw: Mapping[str, object]) -> dict[str, str | None]:
    """The contact fields of a company, cleaned; every field is required but the complement."""
    errors: dict[str, str] = {}
    out: dict[str, str | None] = {}
    for key in CONTACT_FIELDS:
        value = _text(raw, key)
        if not value and key != "complement":
            errors[key] = f"Informe o campo {CONTACT_LABELS[key]}."
        elif problem := text_problem(value, CONTACT_LABELS[key], _MAX_LENGTHS[key]):
            errors[key] = problem  # too long, or control/bidi characters
        out[key] = value or None
    if out["cep"] and "cep" not in errors:
        if not is_valid_cep(out["cep"]):
            errors["cep"] = "CEP inválido: informe os 8 dígitos (exemplo: 01310-100)."
        else:
            out["cep"] = only_digits(out["cep"])
    if out["state"] and "state" not in errors:
        out["state"] = out["state"].upper()
        if out["state"] not in UFS:
            errors["state"] = "UF inválida: informe a sigla do estado (exemplo: SP)."
    if out["phone"] and "phone" not in errors:
        if problem := phone_problem(out["phone"]):
            errors["phone"] = problem
        else:
            out["phone"] = only_digits(out["phone"])
    if out["contact_email"] and "contact_email" not in errors:
        out["contact_email"] = out["contact_email"].replace(" ", "").lower()
        if not is_valid_email(out["contact_email"]):
            errors["contact_email"] = (
                "E-mail inválido: confira o endereço informado (exemplo: rh@empresa.com.br)."
            )
    if errors:
        raise FieldErrors(errors)
    return out


@dataclass(frozen=True)
class UserData:
    name: str
    cpf: str
    email: str


def clean_user(name: object, cpf: object, email: object) -> UserData:
    """A portal user's name, CPF (11 digits) and e-mail (lower case), or FieldErrors."""
    errors: dict[str, str] = {}
    clean_name = " ".join(str(name or "").split())
    if not clean_name:
        errors["name"] = "Informe o nome do usuário."
    elif problem := text_problem(clean_name, "Nome", PERSON_NAME_MAX):
        errors["name"] = problem
    elif len(clean_name.split()) < 2:
        errors["name"] = "Informe o nome completo (nome e sobrenome)."
    digits = only_digits(str(cpf or ""))
    if not digits:
        errors["cpf"] = "Informe o CPF do usuário."
    elif not is_valid_cpf(digits):
        errors["cpf"] = "CPF inválido: confira os 11 dígitos informados."
    clean_email = str(email or "").strip().lower()
    if not clean_email:
        errors["email"] = "Informe o e-mail do usuário."
    elif not is_valid_email(clean_email):
        errors["email"] = "E-mail inválido: confira o endereço (exemplo: nome@empresa.com.br)."
    if errors:
        raise FieldErrors(errors)
    return UserData(name=clean_name, cpf=digits, email=clean_email)


def permissions_escalated(granted: Iterable[str], own: Iterable[str]) -> list[str]:
    """The permissions in `granted` that the granting user does not hold itself."""
    mine = set(own)
    return sorted(p for p in set(granted) if p not in mine)
