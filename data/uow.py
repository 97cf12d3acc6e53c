"""Unit of work: one session, rolled back on exit unless committed, scoped to a company.

Company scoping is structural: a unit of work opened for a company adds
`Model.company_id == company` to every ORM statement of its session on a company-scoped
model (`COMPANY_SCOPED`), so a query that forgets its filter still sees one company
only. This is SQLAlchemy's documented "global WHERE criteria" recipe: a `do_orm_execute`
event adds `with_loader_criteria()` for each scoped model.

What the criteria cover (tests/services/test_company_scoping.py proves each one):
- ORM SELECTs of a scoped entity or of its columns (`select(Beneficiary.id)`), in the
  FROM list, in joins (the ON clause gets the criteria), in aliases, and in subqueries
  and EXISTS of an ORM statement;
- ORM UPDATE and DELETE statements with a WHERE clause (`update(Beneficiary).where(...)`);
- `session.get()` when it has to load the row: another company's row is not found;
- relationship lazy loads of objects the filtered queries loaded (the criteria travel
  with the loaded objects, SQLAlchemy's `propagate_to_loaders`).

What they do not cover:
- plain SQL (`text()`, `exec_driver_sql`) and Core statements against a `Table`
  (`Beneficiary.__table__`): these are not ORM statements;
- INSERTs and objects written by the flush: a new row takes the `company_id` the
  service sets (a transfer moves a beneficiary to another company on purpose);
- ORM bulk UPDATE by primary key (`session.execute(update(M), [{"id": ...}, ...])`),
  which the ORM runs row by row on the given keys;
- objects already in the session's identity map (`session.get()` returns them without
  SQL), which only a query without the criteria could have put there.

A unit of work without a company (an account manager's portfolio, the billing run over
every company, command-line tools) is not filtered. A statement that must cross
companies inside a company's unit of work says so: `.execution_options(all_companies=True)`;
a block of code that must (a transfer reads its destination company's contract and
active CPFs) runs inside `with across_companies(session):`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Self

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker, with_loader_criteria

from data.models import (
    BatchFile,
    Beneficiary,
    ContractedPlan,
    CostCentre,
    CoveragePeriod,
    Invoice,
    Movement,
    PersonalDataAccess,
    Protocol,
    UtilizationEvent,
)

# Every model whose rows belong to exactly one company (`company_id` NOT NULL). Rows that
# hang off one of them (batch lines, invoice lines, protocol events, boletos, payments,
# price tables of a contracted plan) are reached through their parent's join. Users,
# audit records and access tokens have an optional company and are read by login and by
# account managers: they are filtered by hand where it matters.
COMPANY_SCOPED: tuple[type[Any], ...] = (
    BatchFile,
    Beneficiary,
    ContractedPlan,
    CostCentre,
    CoveragePeriod,
    Invoice,
    Movement,
    PersonalDataAccess,
    Protocol,
    UtilizationEvent,
)

# The execution option that lets one statement cross companies on purpose.
ALL_COMPANIES = "all_companies"
# Where the session keeps the company it is scoped to, and whether a block of code has
# lifted the scope for a while (`Session.info`).
_COMPANY_INFO_KEY = "company_id"
_ACROSS_INFO_KEY = "across_companies"


class NoCompanyInContext(RuntimeError):
    """A company-scoped service ran without a company in the unit of work (a bug)."""


def session_company(session: Session) -> int | None:
    """The company a session's ORM statements are scoped to (None: not scoped)."""
    value = session.info.get(_COMPANY_INFO_KEY)
    return value if isinstance(value, int) else None


def scope_session(session: Session, company_id: int | None) -> None:
    """Scope `session`'s ORM statements to `company_id` (None: no scoping)."""
    if company_id is None:
        session.info.pop(_COMPANY_INFO_KEY, None)
    else:
        session.info[_COMPANY_INFO_KEY] = company_id


@contextmanager
def across_companies(session: Session) -> Iterator[Session]:
    """Inside the block, the session's ORM statements see every company.

    For the few reads that cross companies on purpose inside one company's unit of
    work (a transfer reads its destination's contract and active CPFs); each of them
    still filters on the company it wants."""
    previous = session.info.get(_ACROSS_INFO_KEY, False)
    session.info[_ACROSS_INFO_KEY] = True
    try:
        yield session
    finally:
        session.info[_ACROSS_INFO_KEY] = previous


def _company_criteria(company_id: int) -> list[Any]:
    return [
        with_loader_criteria(
            model,
            lambda cls: cls.company_id == company_id,
            include_aliases=True,
        )
        for model in COMPANY_SCOPED
    ]


@event.listens_for(Session, "do_orm_execute")
def _scope_to_company(state: ORMExecuteState) -> None:
    """Add the company's criteria to an ORM SELECT, UPDATE or DELETE of a scoped session.

    Column loads (an expired or deferred attribute of an object already loaded) and
    relationship loads are left alone: the object was loaded under the criteria, and
    `with_loader_criteria` carries them to its lazy loads itself."""
    company_id = session_company(state.session)
    if company_id is None or state.execution_options.get(ALL_COMPANIES, False):
        return
    if state.session.info.get(_ACROSS_INFO_KEY, False):
        return
    if state.is_select:
        if state.is_column_load or state.is_relationship_load:
            return
    elif not (state.is_update or state.is_delete):
        return
    state.statement = state.statement.options(*_company_criteria(company_id))


class UnitOfWork:
    """Opens one session per `with` block; nothing is written without `commit()`.

    `company_id` is the company in context: the session's ORM statements on
    company-scoped models see only its rows (see the module docstring).
    """

    def __init__(self, session_factory: sessionmaker[Session], company_id: int | None = None):
        self._session_factory = session_factory
        self.company_id = company_id
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("UnitOfWork used outside of `with`")
        return self._session

    def require_company(self) -> int:
        """The company in context; raises `NoCompanyInContext` when there is none.

        Company-scoped services call this instead of reading `company_id`, so a call
        without a company fails with a clear error (an `assert` would vanish under -O).
        """
        if self.company_id is None:
            raise NoCompanyInContext(
                "this operation needs a company in context: open the unit of work with "
                "uow.for_company(company_id)"
            )
        return self.company_id

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

    def for_company(self, company_id: int | None) -> UnitOfWork:
        return UnitOfWork(self._session_factory, company_id)

    def __enter__(self) -> Self:
        self._session = self._session_factory()
        scope_session(self._session, self.company_id)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._session is not None
        try:
            self._session.rollback()
        finally:
            self._session.close()
            self._session = None

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()
