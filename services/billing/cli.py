"""`portal-billing`: the monthly billing and the billing ledger, for operators and schedulers.

    portal-billing run --month YYYY-MM [--company CODE] [--database-url URL]
    portal-billing ledger --company CODE [--database-url URL]

`run` issues the invoices of the month (services.billing.billing_run) for one company or
for every company of the operator, as the operator itself (a system account manager
over every company). It is idempotent: a company already invoiced for the month is
skipped (and said so on stderr), so a scheduler may run it again. One line per invoice
issued goes to stdout; the last line is `month=YYYY-MM invoices=N lines=M total=D`
(what THIS run issued; total with a dot and 2 decimals).

`ledger` writes to stdout, as CSV, every line of every invoice of the company that is
not cancelled: `card_number,cpf,reference_month,invoice_month,kind,amount` (months
YYYY-MM, amounts with a dot, credits negative), ordered by card number, reference
month and invoice month.

The database is --database-url, else PORTAL_DATABASE_URL (else the local SQLite of
the settings). Bad input (month, unknown company) is said in Portuguese on stderr with
exit status 2; a refusal of the run itself exits with 1.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, make_url, select
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import sessionmaker

from config import get_settings
from data.db import alembic_config, make_engine, make_session_factory, upgrade_to_head
from data.models import Company
from data.uow import UnitOfWork
from services import billing
from services.actors import operator_actor
from services.billing.ledger_export import LEDGER_HEADER, ledger_line, ledger_rows
from services.rules.errors import DomainError

PROG = "portal-billing"
_MONTH = re.compile(r"(\d{4})-(\d{2})")


class InputError(Exception):
    """Bad input from the command line: the message says what to fix."""


def _fail(message: str, status: int = 2) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return status


class _Parser(argparse.ArgumentParser):
    """argparse that says a usage error through `InputError` (exit 2, no traceback)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        for english, portuguese in _ARGPARSE_MESSAGES:
            message = message.replace(english, portuguese)
        raise InputError(f"{message} (veja {self.prog} --help)")


_ARGPARSE_MESSAGES = (
    ("the following arguments are required:", "informe:"),
    ("unrecognized arguments:", "argumentos não reconhecidos:"),
    ("invalid choice:", "comando inválido:"),
    ("choose from", "use um destes:"),
    ("expected one argument", "falta o valor"),
    ("argument ", "argumento "),
)


def parse_month(text: str) -> date:
    """ "2025-09" -> date(2025, 9, 1); anything else is refused in Portuguese."""
    match = _MONTH.fullmatch(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1900:
        raise InputError(f"mês inválido: {text!r}; use AAAA-MM, por exemplo 2025-09")
    return date(int(match.group(1)), int(match.group(2)), 1)


def _parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument(
        "--database-url",
        default=argparse.SUPPRESS,
        help="URL do banco (padrão: PORTAL_DATABASE_URL)",
    )
    parser = _Parser(prog=PROG, description="Faturamento mensal e razão de faturamento.")
    parser.add_argument("--database-url", default=None, help="URL do banco")
    sub = parser.add_subparsers(
        dest="command", metavar="comando", required=True, parser_class=_Parser
    )
    run = sub.add_parser(
        "run", parents=[common], help="emite as faturas do mês (empresas já faturadas: puladas)"
    )
    run.add_argument("--month", required=True, help="competência, AAAA-MM")
    run.add_argument("--company", help="código da empresa (padrão: todas)")
    ledger = sub.add_parser(
        "ledger", parents=[common], help="CSV com todos os lançamentos da empresa"
    )
    ledger.add_argument("--company", required=True, help="código da empresa")
    return parser


def make_url_safe(url: str) -> str:
    """The URL as it may be printed: without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(ilegível)"


def _schema_ready(engine: Engine) -> None:
    """Upgrade the schema only when it is behind the newest migration: the upgrade ends
    with a check of every reference (SQLite), seconds on a big database, which a
    scheduler's daily export should not pay when there is nothing to migrate."""
    url = engine.url.render_as_string(hide_password=False)
    heads = set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    if current != heads:
        upgrade_to_head(engine)


def _company_ids(factory: sessionmaker, code: str | None) -> tuple[frozenset[int], int | None]:
    """Every company id, and the id of ``code`` (None when no code was given)."""
    with factory() as session:
        ids = dict(session.execute(select(Company.code, Company.id)).all())
    if code is None:
        return frozenset(ids.values()), None
    if code.strip() not in ids:
        raise InputError(f"empresa {code} não encontrada")
    return frozenset(ids.values()), ids[code.strip()]


def _run(factory: sessionmaker, month: date, code: str | None) -> int:
    all_ids, company_id = _company_ids(factory, code)
    if not all_ids:
        raise InputError("nenhuma empresa cadastrada neste banco")
    try:
        result = billing.billing_run(
            uow=UnitOfWork(factory),
            actor=operator_actor(PROG, all_ids),
            billing_month=month,
            company_ids=None if company_id is None else [company_id],
            now=datetime.now(UTC),
        )
    except DomainError as exc:
        return _fail(exc.message, 1)
    for s in result.skipped:
        print(f"empresa {s.code} pulada: {s.reason}", file=sys.stderr)
    for b in result.billed:
        kinds = " ".join(f"{kind}={n}" for kind, n in sorted(b.kinds.items()))
        print(
            f"empresa {b.code}: fatura {b.invoice_id} vencimento {b.due_date:%Y-%m-%d} "
            f"lines={b.lines} total={b.amount:.2f} ({kinds})"
        )
    print(
        f"month={month:%Y-%m} invoices={len(result.billed)} lines={result.lines} "
        f"total={result.total:.2f}"
    )
    return 0


def _ledger(factory: sessionmaker, code: str) -> int:
    all_ids, company_id = _company_ids(factory, code)
    assert company_id is not None
    rows = ledger_rows(
        uow=UnitOfWork(factory).for_company(company_id), actor=operator_actor(PROG, all_ids)
    )
    try:
        sys.stdout.write(",".join(LEDGER_HEADER) + "\n")
        sys.stdout.writelines(map(ledger_line, rows))
        sys.stdout.flush()
    except BrokenPipeError:  # the reader stopped early (`| head`): no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        month = parse_month(args.month) if args.command == "run" else None
    except InputError as exc:
        return _fail(str(exc))
    url = args.database_url or get_settings().database_url
    try:
        engine = make_engine(url)
    except ArgumentError:
        return _fail(f"URL do banco inválida: {make_url_safe(url)}")
    try:
        try:
            _schema_ready(engine)
        except OperationalError as exc:
            return _fail(f"não foi possível abrir o banco {make_url_safe(url)}: {exc.orig}")
        factory = make_session_factory(engine)
        if args.command == "run":
            assert month is not None
            return _run(factory, month, args.company)
        return _ledger(factory, args.company)
    except InputError as exc:
        return _fail(str(exc))
    finally:
        engine.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
