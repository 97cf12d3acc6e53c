"""Unit of work: one session, rolled back on exit unless committed."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.orm import Session, sessionmaker


class NoCompanyInContext(RuntimeError):
    """A company-scoped service ran without a company in the unit of work (a bug)."""


class UnitOfWork:
    """Opens one session per `with` block; nothing is written without `commit()`.

    `company_id` is the company in context; company-scoped queries filter on it.
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
