"""`portal-batch`: the batch movements of the portal, from the command line.

    portal-batch FILE --company CODE --user USERCODE [--check-only]
    portal-batch --template PATH --company CODE

Same check and apply as the "Cadastro em lote" page (services.batch.processing). Progress goes to
stderr, with every refused line and every line accepted with a warning (its number and
message); the last line on stdout is `accepted=N refused=M`. Exit status 0 when the file
was processed (even with refused lines), 2 when the file itself was refused. The
database comes from PORTAL_DATABASE_URL; the user must be an active portal user with
the movements permission on the company (no password: this is for the operator's
servers, which already hold the database credentials). While it applies, it writes the
batch job's heartbeat on the task queue (PORTAL_QUEUE_URL, as the portal), so a running
worker's periodic check does not take the batch for an interrupted one; if it is killed,
the heartbeat ages and a worker (or the portal's embedded queue) resumes the batch.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from config import get_settings
from data.db import make_engine, make_session_factory, upgrade_to_head
from data.models import Company
from data.uow import UnitOfWork
from services.access import accounts as access
from services.actors import operator_actor
from services.batch import processing as batch
from services.batch.files import template_xlsx
from services.jobs.batch import job_heartbeat
from services.jobs.queue import queue_for
from services.movements.service import movement_options
from services.numbering import local_date
from services.rules.errors import DomainError


def _fail(message: str, status: int = 2) -> int:
    print(f"portal-batch: {message}", file=sys.stderr)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="portal-batch", description="Movimentação cadastral em lote."
    )
    parser.add_argument("file", nargs="?", help="arquivo .xlsx ou .csv")
    parser.add_argument("--company", required=True, help="código da empresa")
    parser.add_argument("--user", help="código do usuário que envia o lote")
    parser.add_argument(
        "--check-only", action="store_true", help="só confere o arquivo, sem aplicar as linhas"
    )
    parser.add_argument("--template", metavar="PATH", help="grava o modelo (xlsx) em PATH")
    args = parser.parse_args(argv)
    engine = make_engine(get_settings().database_url)
    upgrade_to_head(engine)
    factory = make_session_factory(engine)
    now = datetime.now(UTC)
    with factory() as session:
        company_id = session.scalar(select(Company.id).where(Company.code == args.company))
    if company_id is None:
        return _fail(f"empresa {args.company} não encontrada")
    if args.template:
        plans = movement_options(
            uow=UnitOfWork(factory, company_id),
            actor=operator_actor("portal-batch", frozenset({company_id})),
            today=local_date(now),
        ).plans
        Path(args.template).write_bytes(
            template_xlsx([(p.code, p.name) for p in plans], args.company)
        )
        print(f"modelo gravado em {args.template}", file=sys.stderr)
        return 0
    if not args.file or not args.user:
        return _fail("informe o arquivo e --user (ou --template PATH)")
    actor = access.actor_for_user(uow=UnitOfWork(factory), user_code=args.user)
    if actor is None:
        return _fail(f"usuário {args.user} não encontrado ou inativo")
    try:
        content = Path(args.file).read_bytes()
    except OSError as exc:
        return _fail(f"não foi possível ler {args.file}: {exc.strerror}")
    uow = UnitOfWork(factory, company_id)
    try:
        print(f"conferindo {args.file}...", file=sys.stderr)
        checked = batch.batch_receive(
            uow=uow, actor=actor, file_name=Path(args.file).name, content=content, now=now
        )
    except batch.BatchFileError as exc:
        print(f"arquivo recusado: {exc.message}", file=sys.stderr)
        print("accepted=0 refused=0")
        return 2
    except DomainError as exc:
        return _fail(exc.message)
    for line in checked.lines:  # refusals and warnings, each with its line number
        if line.status == "refused":
            print(f"linha {line.line_number}: {line.message}", file=sys.stderr)
        elif line.status == "warning":
            print(f"linha {line.line_number} (aviso): {line.message}", file=sys.stderr)
    if checked.batch.warning_lines:
        print(
            f"{checked.batch.warning_lines} linha(s) aceita(s) com aviso: confira-as",
            file=sys.stderr,
        )
    if checked.duplicate_of is not None:
        print(
            f"atenção: arquivo igual ao lote {checked.duplicate_of.id} "
            f"({checked.duplicate_of.status_label})",
            file=sys.stderr,
        )
    accepted = checked.batch.accepted_lines
    refused = checked.batch.refused_lines
    if not args.check_only and accepted:
        try:
            with ExitStack() as stack:
                try:
                    beat = stack.enter_context(
                        job_heartbeat(checked.batch.id, queue_for(get_settings().database_url))
                    )
                except Exception as exc:  # noqa: BLE001 - a bad address, a server away
                    return _fail(f"fila de tarefas indisponível (PORTAL_QUEUE_URL): {exc}")

                def progress(done: int, total: int) -> None:
                    beat(done, total)
                    print(f"aplicando: {done}/{total}", file=sys.stderr)

                result = batch.batch_apply(
                    uow=uow, actor=actor, batch_id=checked.batch.id, now=now, progress=progress
                )
        except DomainError as exc:
            # Refused (or another process applies it): its heartbeat is left alone.
            return _fail(exc.message)
        accepted, refused = result.applied, result.refused
    print(f"accepted={accepted} refused={refused}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
