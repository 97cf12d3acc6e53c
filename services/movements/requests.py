"""What a movement asks for: one frozen request type per movement kind, whatever the channel.

The individual and retroactive forms build them from widgets, the batch builds them from a
file's line (services/batch/processing.py fills each field by its name), and
`services.movements.service.movement_apply` applies any of them through the engine's
registry (`services.movements.engine.MOVEMENT_TYPES`). A request only carries input: the
checks in the engine decide whether it is allowed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

from services.rules.eligibility import Relationship
from services.rules.movements import Channel, MovementKind, PersonData


class Request:
    """What every request answers: which rows the check needs (card numbers and CPFs the
    snapshot loads) and which other companies the actor must be allowed to act on."""

    kind: ClassVar[MovementKind]

    def cards(self) -> list[str]:
        card = getattr(self, "card_number", None)
        return [card] if card else []

    def cpfs(self) -> list[str | None]:
        return []

    def other_companies(self) -> list[int]:
        return []


@dataclass(frozen=True)
class InclusionRequest(Request):
    kind: ClassVar[MovementKind] = MovementKind.INCLUSION

    person: PersonData
    relationship_code: int = Relationship.HOLDER
    plan_id: int | None = None  # holders; dependents follow the holder's plan
    holder_card: str | None = None  # dependents: holder's card number...
    holder_cpf: str | None = None  # ...or CPF of an active holder (earlier line of a file)
    effective_date: date | None = None
    channel: Channel = Channel.INDIVIDUAL
    cost_centre: str | None = None  # holders: the code of a cost centre of the company

    def cards(self) -> list[str]:
        return [self.holder_card] if self.holder_card else []

    def cpfs(self) -> list[str | None]:
        return [self.person.cpf, self.holder_cpf]


@dataclass(frozen=True)
class ExclusionRequest(Request):
    kind: ClassVar[MovementKind] = MovementKind.EXCLUSION

    card_number: str
    reason: str
    effective_date: date | None = None
    dependents_confirmed: bool = False  # a holder's exclusion takes its dependents
    contributed: bool = False  # arts. 30/31: the holder paid part of the plan...
    contribution_months: int = 0  # ...for this long
    stay_accepted: bool = False  # and opts for the stay
    channel: Channel = Channel.INDIVIDUAL


@dataclass(frozen=True)
class UpdateRequest(Request):
    kind: ClassVar[MovementKind] = MovementKind.UPDATE

    card_number: str
    changes: Mapping[str, Any]  # only the fields that change
    channel: Channel = Channel.INDIVIDUAL
    cost_centre: str | None = None  # a holder's new cost centre (code); None: unchanged

    def cpfs(self) -> list[str | None]:
        return [str(self.changes.get("cpf") or "")]


@dataclass(frozen=True)
class ReactivationRequest(Request):
    kind: ClassVar[MovementKind] = MovementKind.REACTIVATION

    card_number: str
    effective_date: date | None = None
    changes: Mapping[str, Any] = field(default_factory=dict)  # data corrected on the way
    stay: bool = False  # the arts. 30/31 option of a holder excluded up to 30 days ago
    channel: Channel = Channel.INDIVIDUAL

    def __post_init__(self) -> None:
        if self.changes is None:  # "nothing corrected", as a caller may well say it
            object.__setattr__(self, "changes", {})

    def cpfs(self) -> list[str | None]:
        return [str(self.changes.get("cpf") or "")]


@dataclass(frozen=True)
class TransferRequest(Request):
    kind: ClassVar[MovementKind] = MovementKind.TRANSFER

    card_number: str
    target_company_id: int
    plan_id: int | None = None  # None: keep the current plan (if the destination has it)
    effective_date: date | None = None
    channel: Channel = Channel.INDIVIDUAL

    def other_companies(self) -> list[int]:
        return [self.target_company_id]


@dataclass(frozen=True)
class PlanChangeRequest(Request):
    kind: ClassVar[MovementKind] = MovementKind.PLAN_CHANGE

    card_number: str
    plan_id: int | None
    effective_date: date | None = None
    channel: Channel = Channel.INDIVIDUAL


MovementRequest = (
    InclusionRequest
    | ExclusionRequest
    | UpdateRequest
    | ReactivationRequest
    | TransferRequest
    | PlanChangeRequest
)
