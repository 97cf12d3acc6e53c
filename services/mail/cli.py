"""`portal-mail`: the portal's outgoing e-mail from the command line (for a scheduler).

    portal-mail retry [--max-age-hours N]

Delivers again, through the configured SMTP server, the e-mails that failed in the last
N hours (48 by default) and those a dead process left undelivered; prints
`sent=N failed=M` and exits 0 when nothing failed, 1 otherwise. The database and the
SMTP server come from the PORTAL_* settings (PORTAL_DATABASE_URL, PORTAL_SMTP_HOST...).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from config import get_settings
from data.db import make_engine, make_session_factory, upgrade_to_head
from data.uow import UnitOfWork
from services.mail.outbox import mail_retry_failed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="portal-mail", description="E-mails do portal.")
    sub = parser.add_subparsers(dest="command", required=True)
    retry = sub.add_parser("retry", help="reenvia os e-mails que falharam")
    retry.add_argument("--max-age-hours", type=float, default=48.0)
    args = parser.parse_args(argv)
    settings = get_settings()
    if not settings.smtp_host:
        print("portal-mail: PORTAL_SMTP_HOST não configurado; nada a enviar", file=sys.stderr)
        return 0
    engine = make_engine(settings.database_url)
    upgrade_to_head(engine)
    try:
        done = mail_retry_failed(
            uow=UnitOfWork(make_session_factory(engine)),
            now=datetime.now(UTC),
            settings=settings,
            max_age=timedelta(hours=args.max_age_hours),
        )
    finally:
        engine.dispose()
    sent = sum(1 for d in done if d.delivered)
    failed = len(done) - sent
    for d in done:
        if not d.delivered:
            print(f"e-mail {d.id} para {d.to_address}: {d.error or d.status}", file=sys.stderr)
    print(f"sent={sent} failed={failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
