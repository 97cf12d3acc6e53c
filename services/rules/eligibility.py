"""Who may enter a collective business plan as a dependent, and plan stays after leaving.

Sources:
- ANS, RN 557/2022 (which consolidated RN 195/2009): dependents of the
  holder, when the contract admits them, are the spouse or partner and
  relatives up to the 3rd degree by blood and 2nd by marriage;
  children and a new spouse must always be admissible. Age limits and which
  other relatives are admitted are contractual: a per-contract table
  relationship -> {"allowed", "max_age", "student_max_age"}. An age limit is
  inclusive: ``max_age=21`` admits someone aged 21 (not yet 22).
- Relationship codes: ANS SIB "relação de dependência" (RN 500/2022):
  1 holder, 3 spouse/partner, 4 child, 6 stepchild, 8 father/mother,
  10 other/aggregate.
- CPF: RN 500/2022 (SIB) requires it for holders and for dependents aged 18
  or more.
- Stay after leaving the company (Lei 9.656/1998, arts. 30 and 31, regulated
  by RN 279/2011, consolidated in RN 488/2021), for holders who contributed to the
  premium: dismissed without cause keep the plan for one third of the
  contribution time, at least 6 and at most 24 months (art. 30 §1); retired
  with 10 years or more of contribution keep it indefinitely (art. 31), with
  less, one year per full year of contribution (art. 31 §1).

Explained in docs/domain/movements-and-ans.md (dependents, relationship codes,
"Staying after leaving").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from enum import IntEnum, StrEnum
from typing import Any

from services.rules.errors import DomainError

ADULT_AGE = 18
RETIREMENT_INDEFINITE_MONTHS = 120


class Relationship(IntEnum):
    """ANS SIB relationship code of a beneficiary to the holder."""

    HOLDER = 1
    SPOUSE = 3
    CHILD = 4
    STEPCHILD = 6
    PARENT = 8
    OTHER = 10

    @property
    def label(self) -> str:
        """Portuguese name shown in forms and reports."""
        return _LABELS[self]


_LABELS: dict[Relationship, str] = {
    Relationship.HOLDER: "Titular",
    Relationship.SPOUSE: "Cônjuge/Companheiro(a)",
    Relationship.CHILD: "Filho(a)",
    Relationship.STEPCHILD: "Enteado(a)",
    Relationship.PARENT: "Pai/Mãe",
    Relationship.OTHER: "Agregado/Outros",
}

# Relationships the contract cannot refuse (RN 557/2022): children and spouse.
ALWAYS_ADMISSIBLE: frozenset[Relationship] = frozenset({Relationship.SPOUSE, Relationship.CHILD})

DEFAULT_ELIGIBILITY: dict[int, dict[str, Any]] = {
    Relationship.SPOUSE.value: {"allowed": True, "max_age": None, "student_max_age": None},
    Relationship.CHILD.value: {"allowed": True, "max_age": 21, "student_max_age": 24},
    Relationship.STEPCHILD.value: {"allowed": True, "max_age": 21, "student_max_age": 24},
    Relationship.PARENT.value: {"allowed": False, "max_age": None, "student_max_age": None},
    Relationship.OTHER.value: {"allowed": False, "max_age": None, "student_max_age": None},
}


class StayReason(StrEnum):
    """Why a holder left the company, for the stay of Lei 9.656 arts. 30/31."""

    DISMISSAL_WITHOUT_CAUSE = "dismissal_without_cause"
    RETIREMENT = "retirement"


def _relationship(code: int) -> Relationship:
    try:
        return Relationship(int(code))
    except (TypeError, ValueError):
        raise DomainError(
            f"Código de parentesco inexistente: {code}.", "relationship_code"
        ) from None


def _rule_for(table: Mapping[Any, Mapping[str, Any]], rel: Relationship) -> Mapping[str, Any]:
    # Tables loaded from JSON have string keys.
    for key in (rel.value, str(rel.value)):
        if key in table:
            return table[key]
    if rel in ALWAYS_ADMISSIBLE:
        return DEFAULT_ELIGIBILITY[rel.value]
    return {"allowed": False, "max_age": None, "student_max_age": None}


def check_dependent_eligibility(
    relationship: int,
    age: int,
    is_student: bool,
    table: Mapping[Any, Mapping[str, Any]],
) -> None:
    """Raise ``DomainError`` unless the contract's ``table`` admits this dependent.

    Children and spouse are admissible even if the table says ``allowed: False``
    (their age limits still apply); a relationship absent from the table is not
    admitted, except children and spouse, which then use ``DEFAULT_ELIGIBILITY``.
    """
    rel = _relationship(relationship)
    if rel is Relationship.HOLDER:
        raise DomainError("Um dependente não pode ter o parentesco Titular.", "relationship_code")
    if age < 0:
        raise DomainError("A data de nascimento não pode ser futura.", "birth_date")
    rule = _rule_for(table, rel)
    if not rule.get("allowed", False) and rel not in ALWAYS_ADMISSIBLE:
        raise DomainError(
            f"O contrato não admite dependentes com parentesco {rel.label}.",
            "relationship_code",
        )
    max_age = rule.get("max_age")
    if max_age is None or age <= max_age:
        return
    student_max_age = rule.get("student_max_age")
    if is_student and student_max_age is not None and age <= student_max_age:
        return
    if student_max_age is not None and not is_student and age <= student_max_age:
        raise DomainError(
            f"{rel.label} com {age} anos só pode ser dependente se for estudante "
            f"(limite de {max_age} anos, ou {student_max_age} para estudantes).",
            "birth_date",
        )
    limit = max(max_age, student_max_age or 0)
    raise DomainError(
        f"{rel.label} com {age} anos passa do limite de idade do contrato ({limit} anos).",
        "birth_date",
    )


def cpf_required(relationship: int, age: int) -> bool:
    """CPF is mandatory for holders and for dependents aged 18 or more (SIB, RN 500/2022)."""
    return int(relationship) == Relationship.HOLDER or age >= ADULT_AGE


def stay_period_months(reason: str, contribution_months: int) -> int | None:
    """Months a former employee may stay in the plan; ``None`` means indefinitely.

    ``reason`` is a ``StayReason`` value ("dismissal_without_cause" or
    "retirement"); any other reason gives no right to stay (0).
    """
    if contribution_months < 0:
        raise DomainError("O tempo de contribuição não pode ser negativo.", "contribution_months")
    if reason == StayReason.DISMISSAL_WITHOUT_CAUSE:
        if contribution_months == 0:
            return 0
        return max(6, min(24, math.ceil(contribution_months / 3)))
    if reason == StayReason.RETIREMENT:
        if contribution_months >= RETIREMENT_INDEFINITE_MONTHS:
            return None
        return (contribution_months // 12) * 12
    return 0
