"""`portal-worker`: the task queue's consumer for the distributed layout.

    portal-worker [--workers N] [--chunk LINES]

Runs the portal's jobs (batch application, and the periodic resume of a batch whose job
died) from the queue of PORTAL_QUEUE_URL (redis://...; empty: the embedded SqliteHuey
file of PORTAL_DATABASE_URL, which the portal serves itself) against
PORTAL_DATABASE_URL. Several workers on several machines may share one Redis: a batch's
lines are claimed chunk by chunk, so none is applied twice. SIGINT stops after the
running chunks, SIGTERM at once (a batch cut short is resumed by another worker).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from data.db import make_engine, upgrade_to_head
from services.batch import processing
from services.jobs.consumer import consumer_for, queue_close
from services.jobs.queue import QueueConfigError, queue_for


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="portal-worker", description="Executa as tarefas longas do portal (fila Huey)."
    )
    parser.add_argument("--workers", type=int, default=None, help="threads de trabalho")
    parser.add_argument(
        "--chunk",
        type=int,
        default=None,
        help=f"linhas de um lote por transação (padrão {processing.CHUNK}): menor, retoma "
        "mais perto de onde parou",
    )
    args = parser.parse_args(argv)
    if args.chunk:
        processing.CHUNK = max(1, args.chunk)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        jobs = queue_for()
    except QueueConfigError as exc:
        print(f"portal-worker: {exc}", file=sys.stderr)
        return 2
    if jobs.mode == "immediate":
        print("portal-worker: PORTAL_QUEUE_URL=immediate não usa worker", file=sys.stderr)
        return 2
    engine = make_engine(jobs.database_url)
    upgrade_to_head(engine)
    engine.dispose()
    try:
        consumer_for(jobs, workers=args.workers, embedded=False).run()
    finally:
        queue_close(jobs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
