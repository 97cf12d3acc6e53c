"""A small seeded world for the movement tests: actors, units of work, people, snapshots."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, exists, func, select
from sqlalchemy.orm import Session, aliased, sessionmaker

from data.db import make_session_factory
from data.models import (
    AuditRecord,
    Beneficiary,
    Company,
    Counter,
    CoveragePeriod,
    Movement,
    Protocol,
    ProtocolEvent,
)
from data.uow import UnitOfWork
from demo.generator import seed_demo
from services.access import accounts as access
from services.actors import Actor
from services.rules.documents import cpf_check_digits
from services.rules.errors import DomainError, FieldErrors
from services.rules.movements import PersonData

TODAY = date(2026, 11, 26)
# 12:00 in Brasília: the same calendar day as TODAY.
NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
PROTOCOL_RE = r"^42183920261126\d{6}$"

_cpf_bases = itertools.count(1)


def new_cpf() -> str:
    """A valid CPF that no seeded beneficiary has (the seed draws random ones)."""
    base = f"{987_000_000 + next(_cpf_bases):09d}"
    return base + cpf_check_digits(base)


def holder_person(**overrides: Any) -> PersonData:
    """A complete, valid holder register with a fresh CPF."""
    data: dict[str, Any] = {
        "name": "Ana Beatriz Souza",
        "cpf": new_cpf(),
        "birth_date": date(1990, 5, 17),
        "sex": "F",
        "mother_name": "Maria Helena Souza",
        "marital_status": "Solteiro(a)",
        "email": "ana.souza@example.com.br",
        "phone": "(11) 98765-4321",
        "cep": "01310-100",
        "street": "Avenida Paulista",
        "number": "1000",
        "neighbourhood": "Bela Vista",
        "municipality": "São Paulo",
        "state": "SP",
        "admission_date": date(2026, 11, 2),
    }
    data.update(overrides)
    return PersonData(**data)


def child_person(**overrides: Any) -> PersonData:
    """A 10-year-old child without CPF nor address (takes the holder's)."""
    data: dict[str, Any] = {
        "name": "Pedro Henrique Souza",
        "birth_date": date(2016, 3, 10),
        "sex": "M",
        "mother_name": "Ana Beatriz Souza",
    }
    data.update(overrides)
    return PersonData(**data)


def adult_dependent(**overrides: Any) -> PersonData:
    data: dict[str, Any] = {
        "name": "Carlos Eduardo Lima",
        "cpf": new_cpf(),
        "birth_date": date(1988, 8, 1),
        "sex": "M",
        "mother_name": "Rita de Cassia Lima",
    }
    data.update(overrides)
    return PersonData(**data)


def fields_of(exc: DomainError) -> set[str | None]:
    """The fields a refusal names (every field of a FieldErrors)."""
    if isinstance(exc, FieldErrors):
        return set(exc.errors)
    return {exc.field}


# ---------------------------------------------------------------- snapshots


def snapshot(engine: Engine) -> dict[str, Any]:
    """Row counts of every table a movement writes, counter values and the beneficiaries."""
    with engine.connect() as conn:
        counts = {
            model.__tablename__: conn.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (
                Beneficiary,
                Movement,
                AuditRecord,
                Protocol,
                ProtocolEvent,
                Counter,
                CoveragePeriod,
            )
        }
        counters = dict(conn.execute(select(Counter.name, Counter.value)).all())
        people = [
            tuple(row)
            for row in conn.execute(select(Beneficiary.__table__).order_by(Beneficiary.id))
        ]
        conn.rollback()
    return {"counts": counts, "counters": counters, "beneficiaries": people}


def delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
    """How many rows each table gained (tables without change are left out)."""
    return {
        t: after["counts"][t] - before["counts"][t]
        for t in before["counts"]
        if after["counts"][t] != before["counts"][t]
    }


# ---------------------------------------------------------------- the world


@dataclass
class World:
    engine: Engine
    factory: sessionmaker[Session]
    company: dict[str, int]  # code -> id
    master: Actor  # 100001: master of 10001, group 10001/10002/10003
    user: Actor  # 100002: movements + reports on 10001's group
    manager: Actor  # 900001: account manager of all 8 companies
    clean_holder_card: str = ""  # a holder included through the service (normalised data)

    def uow(self, code: str = "10001") -> UnitOfWork:
        return UnitOfWork(self.factory, self.company[code])

    def snapshot(self) -> dict[str, Any]:
        return snapshot(self.engine)

    def get(self, beneficiary_id: int) -> Beneficiary:
        with self.factory() as s:
            b = s.get(Beneficiary, beneficiary_id)
            assert b is not None
            return b

    def by_card(self, card: str) -> Beneficiary:
        with self.factory() as s:
            return s.scalars(select(Beneficiary).where(Beneficiary.card_number == card)).one()

    def all(self, query: Any) -> list[Any]:
        with self.factory() as s:
            return list(s.scalars(query).all())

    def holder(
        self,
        code: str = "10001",
        *,
        status: str = "active",
        dependents: bool | None = None,
        spouse: bool | None = None,
        plan_id: int | None = None,
        last: bool = False,
    ) -> Beneficiary:
        """The first (or `last`) holder of company `code` matching the filters.

        `dependents`: True -> has active dependents, False -> has no dependents at all.
        """
        dep = aliased(Beneficiary)
        query = select(Beneficiary).where(
            Beneficiary.company_id == self.company[code],
            Beneficiary.relationship_code == 1,
            Beneficiary.status == status,
        )
        if dependents is True:
            query = query.where(
                exists().where(dep.holder_id == Beneficiary.id, dep.status == "active")
            )
        elif dependents is False:
            query = query.where(~exists().where(dep.holder_id == Beneficiary.id))
        if spouse is not None:
            has = exists().where(
                dep.holder_id == Beneficiary.id,
                dep.status == "active",
                dep.relationship_code == 3,
            )
            query = query.where(has if spouse else ~has)
        if plan_id is not None:
            query = query.where(Beneficiary.plan_id == plan_id)
        order = Beneficiary.id.desc() if last else Beneficiary.id
        found = self.all(query.order_by(order).limit(1))
        assert found, f"no holder of {code} with these filters"
        return found[0]

    def dependents(self, holder_id: int, status: str | None = "active") -> list[Beneficiary]:
        query = select(Beneficiary).where(Beneficiary.holder_id == holder_id)
        if status:
            query = query.where(Beneficiary.status == status)
        return self.all(query.order_by(Beneficiary.id))

    def inactive_dependent_of_inactive_holder(self, code: str = "10001") -> Beneficiary:
        """An excluded spouse, or an excluded child still young enough to come back."""
        holder = aliased(Beneficiary)
        found = self.all(
            select(Beneficiary)
            .join(holder, holder.id == Beneficiary.holder_id)
            .where(
                Beneficiary.company_id == self.company[code],
                Beneficiary.status == "inactive",
                holder.status == "inactive",
                (Beneficiary.relationship_code == 3) | (Beneficiary.birth_date > date(2006, 1, 1)),
            )
            .order_by(Beneficiary.id)
            .limit(1)
        )
        assert found
        return found[0]

    def counter(self, name: str) -> int | None:
        with self.factory() as s:
            return s.scalar(select(Counter.value).where(Counter.name == name))


def make_world(engine: Engine) -> World:
    seed_demo(engine, companies=8, beneficiaries=200, today=TODAY)
    factory = make_session_factory(engine)
    plain = UnitOfWork(factory)
    with plain:
        codes = dict(plain.session.execute(select(Company.code, Company.id)).all())
    actors = {}
    for code in ("100001", "100002", "900001"):
        actor = access.actor_for_user(uow=plain, user_code=code, now=NOW)
        assert actor is not None
        actors[code] = actor
    return World(
        engine=engine,
        factory=factory,
        company=codes,
        master=actors["100001"],
        user=actors["100002"],
        manager=actors["900001"],
    )


def without_permissions(actor: Actor, *permissions: Any) -> Actor:
    return replace(actor, permissions=frozenset(actor.permissions) - set(permissions))
