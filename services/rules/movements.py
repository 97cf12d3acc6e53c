"""Rules of beneficiary movements, one set for every channel (individual, batch, retroactive).

Sources:
- ANS RN 500/2022 (SIB): the register of each beneficiary needs full name, birth
  date, sex, mother's name, CPF (holders and dependents aged 18+), CNS (optional),
  address with CEP and municipality, relationship code and holder link.
- ANS RN 557/2022 (collective business plans, formerly RN 195/2009): dependents need
  an active holder in the same contract; eligibility by the contract's table.
- ANS RN 561/2022 (formerly RN 412/2016): an exclusion takes effect when the operator
  is told, so it is never retroactive.
- Lei 9.656/1998 arts. 30/31 (RN 279/2011): stay of dismissed or retired holders.
- Retroactive movements and their dates are contractual (docs/domain/money-and-billing.md,
  "Retroactive movements").

Explained in docs/domain/movements-and-ans.md.
"""

from __future__ import annotations

import calendar as _calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from services.rules.age_bands import age_on
from services.rules.documents import (
    is_valid_cep,
    is_valid_email,
    only_digits,
    parse_cep,
    parse_cns,
    parse_cpf,
)
from services.rules.eligibility import (
    Relationship,
    StayReason,
    check_dependent_eligibility,
    cpf_required,
    stay_period_months,
)
from services.rules.errors import DomainError, FieldErrors
from services.rules.retroactive import retroactive_dates
from services.rules.text import text_problem

MAX_FUTURE_DAYS = 60
MAX_AGE_YEARS = 120


class Channel(StrEnum):
    INDIVIDUAL = "individual"
    BATCH = "batch"
    RETROACTIVE = "retroactive"


class MovementKind(StrEnum):
    INCLUSION = "inclusion"
    EXCLUSION = "exclusion"
    UPDATE = "update"
    REACTIVATION = "reactivation"
    TRANSFER = "transfer"
    PLAN_CHANGE = "plan_change"


MOVEMENT_LABELS = {
    MovementKind.INCLUSION: "Inclusão",
    MovementKind.EXCLUSION: "Exclusão",
    MovementKind.UPDATE: "Alteração cadastral",
    MovementKind.REACTIVATION: "Reativação",
    MovementKind.TRANSFER: "Transferência",
    MovementKind.PLAN_CHANGE: "Alteração de plano",
}
CHANNEL_LABELS = {
    Channel.INDIVIDUAL: "Cadastro individual",
    Channel.BATCH: "Cadastro em lote",
    Channel.RETROACTIVE: "Cadastro retroativo",
}
RETROACTIVE_KINDS = frozenset(
    {MovementKind.INCLUSION, MovementKind.PLAN_CHANGE, MovementKind.REACTIVATION}
)

EXCLUSION_REASONS: dict[str, str] = {
    "demissao": "Demissão sem justa causa",
    "demissao_justa_causa": "Demissão por justa causa",
    "aposentadoria": "Aposentadoria",
    "pedido": "A pedido do beneficiário",
    "obito": "Óbito",
    "perda_elegibilidade": "Perda de elegibilidade",
    "outros": "Outros",
}
STAY_REASONS = {
    "demissao": StayReason.DISMISSAL_WITHOUT_CAUSE,
    "aposentadoria": StayReason.RETIREMENT,
}
MARITAL_STATUSES = (
    "Solteiro(a)",
    "Casado(a)",
    "União estável",
    "Divorciado(a)",
    "Separado(a)",
    "Viúvo(a)",
)
SEXES = {"M": "Masculino", "F": "Feminino"}
STATES = [
    "AC",
    "AL",
    "AP",
    "AM",
    "BA",
    "CE",
    "DF",
    "ES",
    "GO",
    "MA",
    "MT",
    "MS",
    "MG",
    "PA",
    "PB",
    "PR",
    "PE",
    "PI",
    "RJ",
    "RN",
    "RS",
    "RO",
    "RR",
    "SC",
    "SP",
    "SE",
    "TO",
]
UPDATABLE_FIELDS = (
    "name",
    "cpf",
    "cns",
    "birth_date",
    "sex",
    "mother_name",
    "marital_status",
    "is_student",
    "email",
    "phone",
    "cep",
    "street",
    "number",
    "complement",
    "neighbourhood",
    "municipality",
    "state",
    "admission_date",
)
FIELD_LABELS = {
    "name": "Nome completo",
    "cpf": "CPF",
    "cns": "CNS",
    "birth_date": "Data de nascimento",
    "sex": "Sexo",
    "mother_name": "Nome da mãe",
    "marital_status": "Estado civil",
    "is_student": "Estudante",
    "email": "E-mail",
    "phone": "Telefone",
    "cep": "CEP",
    "street": "Logradouro",
    "number": "Número",
    "complement": "Complemento",
    "neighbourhood": "Bairro",
    "municipality": "Município",
    "state": "UF",
    "admission_date": "Data de admissão",
    "relationship_code": "Parentesco",
    "plan": "Plano",
    "holder": "Titular",
    "effective_date": "Data de vigência",
}
_NAME_RE = re.compile(r"^[A-Za-zÀ-ÖØ-öø-ÿ'. -]+$")


@dataclass(frozen=True)
class PersonData:
    """The register of one person, as typed (forms, files) or as cleaned by the rules."""

    name: str = ""
    cpf: str | None = None
    cns: str | None = None
    birth_date: date | None = None
    sex: str = ""
    mother_name: str = ""
    marital_status: str | None = None
    is_student: bool = False
    email: str | None = None
    phone: str | None = None
    cep: str | None = None
    street: str | None = None
    number: str | None = None
    complement: str | None = None
    neighbourhood: str | None = None
    municipality: str | None = None
    state: str | None = None
    admission_date: date | None = None

    def as_dict(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in UPDATABLE_FIELDS}


ADDRESS_FIELDS = ("cep", "street", "number", "complement", "neighbourhood", "municipality", "state")
# Free-text address fields and their maximum lengths (the register's column sizes).
TEXT_LIMITS = {
    "street": 200,
    "number": 20,
    "complement": 100,
    "neighbourhood": 100,
    "municipality": 100,
}


def _blank(value: str | None) -> str | None:
    if value is None:
        return None
    value = " ".join(str(value).split())
    return value or None


def _check_text(value: str | None, field: str, errors: dict[str, str]) -> None:
    """Free text fits its column and has no control characters (NUL, escapes...)."""
    if value is None:
        return
    if problem := text_problem(value, FIELD_LABELS[field], TEXT_LIMITS[field]):
        errors[field] = problem


def _person_name(value: str, field: str, label: str, errors: dict[str, str]) -> str:
    """The name as the person typed it: trimmed, inner spaces collapsed, case kept (never
    upper-cased; a comparison that ignores case compares casefolded text)."""
    name = " ".join(value.split()) if value else ""
    if not name:
        errors[field] = f"Informe o {label}."
    elif len(name.split()) < 2 or not _NAME_RE.match(name) or len(name) > 200:
        errors[field] = f"Informe o {label} completo, só com letras (nome e sobrenome)."
    return name


def clean_person(
    raw: PersonData,
    *,
    relationship: int,
    today: date,
    holder_address: PersonData | None = None,
) -> PersonData:
    """Normalise and check a person's register; every problem at once as FieldErrors.

    Dependents without an address take the holder's (same household by default).
    """
    errors: dict[str, str] = {}
    name = _person_name(raw.name, "name", "nome", errors)
    mother = _person_name(raw.mother_name, "mother_name", "nome da mãe", errors)
    birth = raw.birth_date
    age = 0
    if birth is None:
        errors["birth_date"] = "Informe a data de nascimento (dd/mm/aaaa)."
    elif birth > today:
        errors["birth_date"] = "A data de nascimento não pode ser futura."
    elif age_on(birth, today) > MAX_AGE_YEARS:
        errors["birth_date"] = "Data de nascimento improvável: confira o ano."
    else:
        age = age_on(birth, today)
    sex = (raw.sex or "").strip().upper()[:1]
    if sex not in SEXES:
        errors["sex"] = "Informe o sexo: M (masculino) ou F (feminino)."
    cpf: str | None = None
    if _blank(raw.cpf):
        try:
            cpf = parse_cpf(str(raw.cpf))
        except DomainError as exc:
            errors["cpf"] = exc.message
    elif cpf_required(relationship, age):  # a holder always; a dependent from 18 years
        who = "titulares" if relationship == Relationship.HOLDER else "dependentes maiores de 18"
        errors["cpf"] = f"CPF é obrigatório para {who} (SIB/ANS)."
    cns: str | None = None
    if _blank(raw.cns):
        try:
            cns = parse_cns(str(raw.cns))
        except DomainError as exc:
            errors["cns"] = exc.message
    email = _blank(raw.email)
    if email:
        email = email.lower()
        if not is_valid_email(email):
            errors["email"] = "E-mail inválido: use o formato nome@empresa.com.br."
    phone = only_digits(raw.phone or "") or None
    if phone and len(phone) not in (10, 11):
        errors["phone"] = "Telefone inválido: informe DDD + número (10 ou 11 dígitos)."
    marital = _blank(raw.marital_status)
    if marital and marital not in MARITAL_STATUSES:
        errors["marital_status"] = "Estado civil inválido: escolha um da lista."
    address = {f: _blank(getattr(raw, f)) for f in ADDRESS_FIELDS}
    if not address["cep"] and holder_address is not None:
        address = {f: getattr(holder_address, f) for f in ADDRESS_FIELDS}
    if address["cep"]:
        try:
            address["cep"] = parse_cep(address["cep"])
        except DomainError as exc:
            errors["cep"] = exc.message
    elif not is_valid_cep(address["cep"] or ""):
        errors["cep"] = "Informe o CEP (8 dígitos) do endereço (SIB/ANS)."
    for text_field in TEXT_LIMITS:
        _check_text(address[text_field], text_field, errors)
    if not address["municipality"]:
        errors["municipality"] = "Informe o município do endereço (SIB/ANS)."
    state = (address["state"] or "").upper()
    if state not in STATES:
        errors["state"] = "Informe a UF do endereço (ex.: SP)."
    address["state"] = state or None
    admission = raw.admission_date
    if relationship == Relationship.HOLDER:
        if admission is None:
            errors["admission_date"] = "Informe a data de admissão do titular na empresa."
        elif admission > today + timedelta(days=MAX_FUTURE_DAYS):
            errors["admission_date"] = "Data de admissão muito no futuro: confira."
    if errors:
        raise FieldErrors(errors)
    return PersonData(
        name=name,
        cpf=cpf,
        cns=cns,
        birth_date=birth,
        sex=sex,
        mother_name=mother,
        marital_status=marital,
        is_student=bool(raw.is_student),
        email=email,
        phone=phone,
        admission_date=admission if relationship == Relationship.HOLDER else None,
        **address,
    )


def check_effective_date(
    *,
    kind: MovementKind,
    channel: Channel,
    effective: date | None,
    today: date,
    retroactive_months: int,
    contract_start: date,
) -> date:
    """The movement's effective date, within what the channel allows."""
    if channel is Channel.RETROACTIVE:
        if kind not in RETROACTIVE_KINDS:
            raise DomainError(
                f"{MOVEMENT_LABELS[kind]} não pode ser retroativa: só inclusão, alteração de "
                "plano e reativação.",
                "effective_date",
            )
        allowed = retroactive_dates(today, retroactive_months)
        if effective not in allowed:
            options = ", ".join(d.strftime("%d/%m/%Y") for d in allowed)
            raise DomainError(
                f"Data de vigência retroativa inválida: escolha uma destas: {options}.",
                "effective_date",
            )
        chosen = effective
    else:
        chosen = effective or today
        if chosen < today:
            if kind is MovementKind.EXCLUSION:
                raise DomainError(
                    "A exclusão não pode ser retroativa (RN 561/2022): informe hoje ou uma "
                    "data futura.",
                    "effective_date",
                )
            raise DomainError(
                "Data de vigência no passado: use o cadastro retroativo ou informe hoje ou uma "
                "data futura.",
                "effective_date",
            )
        if chosen > today + timedelta(days=MAX_FUTURE_DAYS):
            raise DomainError(
                f"Data de vigência muito distante: no máximo {MAX_FUTURE_DAYS} dias a partir "
                "de hoje.",
                "effective_date",
            )
    if chosen < contract_start:
        raise DomainError(
            "Data de vigência anterior ao início do contrato da empresa "
            f"({contract_start:%d/%m/%Y}).",
            "effective_date",
        )
    return chosen


@dataclass(frozen=True)
class HolderView:
    id: int
    card_number: str
    name: str
    status: str
    plan_id: int
    company_id: int
    has_active_spouse: bool
    address: PersonData | None = None


def check_dependent_link(
    *,
    relationship: int,
    holder: HolderView | None,
    company_id: int,
    birth_date: date,
    is_student: bool,
    eligibility: Mapping[Any, Mapping[str, Any]],
    on: date,
) -> None:
    """A dependent needs an active holder of the same company, an admitted relationship
    and an age within the contract's limits; only one active spouse per holder."""
    if holder is None:
        raise DomainError("Informe a carteirinha de um titular desta empresa.", "holder")
    if holder.company_id != company_id:
        raise DomainError("O titular informado não pertence a esta empresa.", "holder")
    if holder.status != "active":
        raise DomainError(
            f"O titular {holder.name} não está ativo: reative o titular antes do dependente.",
            "holder",
        )
    check_dependent_eligibility(relationship, age_on(birth_date, on), is_student, eligibility)
    if relationship == Relationship.SPOUSE and holder.has_active_spouse:
        raise DomainError(
            f"O titular {holder.name} já tem cônjuge/companheiro(a) ativo(a): exclua o atual "
            "antes de incluir outro.",
            "relationship_code",
        )


def check_plan_contracted(plan_id: int | None, contracted: Mapping[int, str]) -> int:
    names = ", ".join(sorted(contracted.values()))
    if plan_id is None:
        raise DomainError(f"Escolha o plano. Planos contratados: {names}.", "plan")
    if plan_id not in contracted:
        raise DomainError(
            f"Plano não contratado pela empresa. Planos contratados: {names}.", "plan"
        )
    return plan_id


def _either(names: list[str]) -> str:
    """Names joined as 'A', 'A ou B', 'A, B ou C'."""
    return " ou ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)


def check_transfer_plan(
    plan_id: int, plan_name: str, target_label: str, contracted: Mapping[int, str]
) -> int:
    """A transfer takes the holder to a plan the destination company contracts."""
    if plan_id in contracted:
        return plan_id
    if not contracted:
        raise DomainError(
            f"A empresa {target_label} não tem plano contratado: não é possível transferir "
            "para ela.",
            "target_company",
        )
    raise DomainError(
        f"O plano {plan_name} não é contratado pela empresa {target_label}: escolha um dos "
        f"planos dela ({_either(sorted(contracted.values()))}).",
        "plan",
    )


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _month_text(index: int) -> str:
    return f"{index % 12 + 1:02d}/{index // 12}"


def _first_charged(effective: date) -> int:
    """The month index of the first month a change dated `effective` decides: a month is
    charged as its first covered day says (services/rules/ledger.py), so a change on the
    1st takes its own month, a later day the next one."""
    month = _month_index(effective)
    return month if effective.day == 1 else month + 1


def invoice_effect(
    kind: MovementKind, effective: date, billing_month: date, *, stay: bool = False
) -> str | None:
    """What a movement does to the company's invoices, or None when it does nothing.

    Mirrors the billing run (services.billing): an inclusion or reactivation is charged
    from the invoice of its billing month, which also charges the months since its
    effective month as retroactive lines; a plan change brings the price difference of
    the months already charged; an excluded beneficiary is charged for every month that
    starts before the exclusion date. With `stay` (an arts. 30/31 stay taken): the months
    of the stay are its own lines.
    """
    if stay:
        return (
            f"Lançamentos art. 30/31 a partir da competência "
            f"{_month_text(_first_charged(effective))}; meses já faturados ou passados são "
            "acertados na próxima fatura."
        )
    eff, bill = _month_index(effective), _month_index(billing_month)
    first = max(eff, bill)
    past = bill - eff  # months before the billing month, charged on its invoice

    def months(n: int) -> str:
        span = _month_text(eff) if n == 1 else f"{_month_text(eff)} a {_month_text(bill - 1)}"
        return f"{n} {'mês' if n == 1 else 'meses'} ({span})"

    if kind in (MovementKind.INCLUSION, MovementKind.REACTIVATION):
        if past > 0:
            return (
                f"A fatura de {_month_text(bill)} cobra a mensalidade e, como retroativo, "
                f"{months(past)}."
            )
        return f"Cobrança a partir da fatura de {_month_text(first)}."
    if kind is MovementKind.PLAN_CHANGE:
        if past > 0:
            return (
                f"A fatura de {_month_text(bill)} cobra o novo plano e, como diferença entre "
                f"os planos, {months(past)}."
            )
        return f"Novo plano cobrado a partir da fatura de {_month_text(first)}."
    if kind is MovementKind.EXCLUSION:
        return (
            f"Sem cobrança a partir da competência {_month_text(_first_charged(effective))}; "
            "se ela já foi "
            "faturada, o valor volta como crédito na próxima fatura."
        )
    if kind is MovementKind.TRANSFER:
        return (
            f"A partir da competência {_month_text(_first_charged(effective))}, a cobrança "
            "passa à empresa de destino."
        )
    return None


def check_exclusion_reason(reason: str) -> str:
    if reason not in EXCLUSION_REASONS:
        raise DomainError("Escolha o motivo da exclusão.", "reason")
    return reason


STAY_CHOICE_DAYS = 30  # the dismissed or retired holder opts within 30 days (RN 279/2011)


def may_opt_for_stay(
    *,
    relationship_code: int,
    exclusion_reason: str | None,
    exclusion_date: date | None,
    today: date,
) -> bool:
    """Whether an excluded beneficiary may still opt for the arts. 30/31 stay: a holder
    excluded for dismissal without cause or retirement, up to 30 days ago (RN 279/2011).
    Whether they contributed enough is decided by the exclusion's record, when they opt."""
    return (
        relationship_code == Relationship.HOLDER
        and exclusion_reason in STAY_REASONS
        and exclusion_date is not None
        and 0 <= (today - exclusion_date).days <= STAY_CHOICE_DAYS
    )


def movement_channel(retroactive_date: date | None) -> Channel:
    """The channel of a form's movement, which decides whether it charges back months: with
    a retroactive effective date (Cadastro retroativo) it is the retroactive channel, and
    the months from that date to its billing month are charged on the next invoice
    (`invoice_effect`, services.billing); without one, the individual channel, from
    today on."""
    return Channel.RETROACTIVE if retroactive_date is not None else Channel.INDIVIDUAL


def stay_until(
    reason: str, contributed: bool, contribution_months: int, exclusion: date
) -> tuple[int | None, date | None]:
    """Months and end date of the legal stay (Lei 9.656 arts. 30/31); (0, None) if none.

    ``(None, None)`` means an indefinite stay (retired with 10+ years of contribution).
    """
    stay_reason = STAY_REASONS.get(reason)
    if stay_reason is None or not contributed:
        return 0, None
    months = stay_period_months(stay_reason, contribution_months)
    if months is None:
        return None, None
    if months == 0:
        return 0, None
    index = exclusion.year * 12 + exclusion.month - 1 + months
    year, month = index // 12, index % 12 + 1
    day = min(exclusion.day, _calendar.monthrange(year, month)[1])
    return months, date(year, month, day)


def merge_update(current: PersonData, changes: Mapping[str, Any]) -> PersonData:
    """The register after applying ``changes`` (only updatable fields)."""
    unknown = set(changes) - set(UPDATABLE_FIELDS)
    if unknown:
        raise DomainError(f"Campos que não podem ser alterados: {', '.join(sorted(unknown))}.")
    return replace(current, **dict(changes))


def changed_fields(before: PersonData, after: PersonData) -> dict[str, tuple[Any, Any]]:
    return {
        f: (getattr(before, f), getattr(after, f))
        for f in UPDATABLE_FIELDS
        if getattr(before, f) != getattr(after, f)
    }
