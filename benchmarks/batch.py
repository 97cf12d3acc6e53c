"""Benchmark of a batch inclusion file, server side, against the floor of the same work.

    .venv/bin/python benchmarks/batch.py [--database-url sqlite:///PATH] [--reuse]
        [--lines 10000] [--beneficiaries 100000] [--company 10001] [--user 100001]

- Seeds (once) a SQLite demo with --beneficiaries beneficiaries into --database-url (or a
  temporary file); with --reuse an already seeded file is kept as it is.
- Writes an inclusion file of --lines valid holders (xlsx, openpyxl write_only) with CPFs
  that no beneficiary has.
- Batch: `batch_receive` + `batch_apply` on a copy of the database (the seeded file stays
  clean for the next run), in a child process, timed and with its peak memory.
- Floor: the least any implementation must do, in another child process over another
  copy: read the file with python-calamine (pandas.read_excel(engine="calamine")) and
  insert the same rows into beneficiary, protocol, movement and audit_record with
  SQLAlchemy Core executemany.

Peak memory is the growth of the child's maximum resident set size (getrusage maxrss)
during the measured part: tracemalloc would slow the code it measures several times.

The last line is `lines=N seconds=S floor_seconds=F ratio=R peak_mb=M`.
Targets: 10,000 lines <= 4 s, 100,000 lines <= 40 s, peak <= 600 MB, ratio <= 3.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402

from data.db import make_engine  # noqa: E402
from data.models import (  # noqa: E402
    AuditRecord,
    Beneficiary,
    Company,
    Counter,
    Movement,
    Operator,
    Plan,
    Protocol,
)
from services.batch.layout import COLUMN_NAMES  # noqa: E402
from services.rules.card_numbers import card_number  # noqa: E402
from services.rules.documents import cpf_check_digits  # noqa: E402

NOW = datetime.now(UTC)


def _rss_mb() -> float:
    """Current resident set size (Linux), in MB."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 1024 / 1024


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def _sqlite_path(url: str) -> Path:
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        raise SystemExit("benchmarks/batch.py: only a sqlite:/// database URL is supported")
    return Path(url[len(prefix) :])


# ---------------------------------------------------------------- setup


def seed(url: str, beneficiaries: int, reuse: bool) -> None:
    from demo import generator as demo

    path = _sqlite_path(url)
    if reuse and path.exists():
        engine = make_engine(url)
        with engine.connect() as conn:
            count = conn.execute(select(func.count()).select_from(Operator)).scalar_one()
        engine.dispose()
        if count:
            print(f"reusing the seeded database {path}", file=sys.stderr)
            return
    if path.exists():
        path.unlink()
    started = time.perf_counter()
    print(f"seeding {beneficiaries:,} beneficiaries into {path}...", file=sys.stderr)
    demo.BCRYPT_COST = 4  # nobody logs in to the benchmark database
    engine = make_engine(url)
    demo.seed_demo(engine, companies=8, beneficiaries=beneficiaries, today=NOW.date())
    engine.dispose()
    print(f"seeded in {time.perf_counter() - started:.0f} s", file=sys.stderr)


def write_file(url: str, company_code: str, lines: int, path: Path) -> None:
    """An inclusion file of `lines` valid holders whose CPFs nobody has."""
    from openpyxl import Workbook

    engine = make_engine(url)
    with engine.connect() as conn:
        taken = set(
            conn.execute(select(Beneficiary.cpf).where(Beneficiary.cpf.is_not(None))).scalars()
        )
        plan = conn.execute(
            select(Plan.code)
            .join(Beneficiary, Beneficiary.plan_id == Plan.id)
            .join(Company, Company.id == Beneficiary.company_id)
            .where(Company.code == company_code)
            .limit(1)
        ).scalar_one()
    engine.dispose()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Movimentacoes")
    ws.append(list(COLUMN_NAMES))
    base, written = 600_000_000, 0
    while written < lines:
        base += 1
        cpf = f"{base:09d}" + cpf_check_digits(f"{base:09d}")
        if cpf in taken:
            continue
        n = written
        row = {
            "tipo_movimento": "INCLUSAO",
            "cpf": cpf,
            "nome": f"BENEFICIARIO LOTE {_letters(n)} SILVA",
            "data_nascimento": date(1960 + n % 40, 1 + n % 12, 1 + n % 28),
            "sexo": "MF"[n % 2],
            "nome_mae": f"MAE LOTE {_letters(n)} SOUZA",
            "estado_civil": "Solteiro(a)",
            "email": f"lote{n}@empresa.example.com.br",
            "telefone": "11987654321",
            "cep": "01310100",
            "logradouro": "AVENIDA PAULISTA",
            "numero": str(1 + n % 3000),
            "bairro": "BELA VISTA",
            "municipio": "SAO PAULO",
            "uf": "SP",
            "data_admissao": date(2020 + n % 6, 1 + n % 12, 1 + n % 28),
            "parentesco": "1",
            "codigo_plano": plan,
        }
        ws.append([row.get(c) for c in COLUMN_NAMES])
        written += 1
    out = io.BytesIO()
    wb.save(out)
    path.write_bytes(out.getvalue())


def _letters(n: int) -> str:
    """A name part from a number (names are letters only)."""
    text = ""
    for _ in range(4):
        n, r = divmod(n, 26)
        text += chr(65 + r)
    return text


# ---------------------------------------------------------------- measured phases


def phase_batch(url: str, file: Path, company_code: str, user_code: str) -> dict[str, Any]:
    from data.db import make_session_factory
    from data.uow import UnitOfWork
    from services.access import accounts as access
    from services.batch import processing as batch

    engine = make_engine(url)
    factory = make_session_factory(engine)
    actor = access.actor_for_user(uow=UnitOfWork(factory), user_code=user_code, now=NOW)
    assert actor is not None, f"user {user_code} not found"
    with factory() as s:
        company_id = s.scalar(select(Company.id).where(Company.code == company_code))
        before = s.execute(select(func.count()).select_from(Beneficiary)).scalar_one()
    content = file.read_bytes()
    uow = UnitOfWork(factory, company_id)
    rss0 = _rss_mb()
    c0, t0 = time.process_time(), time.perf_counter()
    checked = batch.batch_receive(
        uow=uow, actor=actor, file_name=file.name, content=content, now=NOW
    )
    t1 = time.perf_counter()
    receive_peak = _maxrss_mb()
    result = batch.batch_apply(uow=uow, actor=actor, batch_id=checked.batch.id, now=NOW)
    t2, c2 = time.perf_counter(), time.process_time()
    peak = _maxrss_mb()
    with factory() as s:
        after = s.execute(select(func.count()).select_from(Beneficiary)).scalar_one()
    engine.dispose()
    assert result.refused == 0 and result.applied == checked.batch.total_lines, result
    assert after - before == result.applied
    return {
        "receive": t1 - t0,
        "apply": t2 - t1,
        "seconds": t2 - t0,
        "cpu_seconds": c2 - c0,
        "peak_mb": peak - rss0,
        "receive_peak_mb": receive_peak - rss0,
        "maxrss_mb": peak,
        "applied": result.applied,
    }


def phase_floor(url: str, file: Path, company_code: str) -> dict[str, Any]:
    import pandas as pd

    engine = make_engine(url)
    with engine.connect() as conn:
        company_id = conn.execute(
            select(Company.id).where(Company.code == company_code)
        ).scalar_one()
        prefix = conn.execute(select(Operator.card_prefix)).scalar_one()
        plans: dict[str, int] = dict(conn.execute(select(Plan.code, Plan.id)).all())
        first = (conn.execute(select(func.max(Counter.value))).scalar_one() or 0) + 10**6
        # Ids given up front: the floor is plain executemany, no RETURNING (which SQLAlchemy
        # runs one row at a time on SQLite when the order of the ids matters).
        first_id = (conn.execute(select(func.max(Beneficiary.id))).scalar_one() or 0) + 1
        first_pid = (conn.execute(select(func.max(Protocol.id))).scalar_one() or 0) + 1
    rss0 = _rss_mb()
    c0, t0 = time.process_time(), time.perf_counter()
    frame = pd.read_excel(file, engine="calamine", dtype=str, sheet_name="Movimentacoes")
    benefs = []
    for i, r in enumerate(frame.itertuples(index=False)):
        benefs.append(
            {
                "id": first_id + i,
                "company_id": company_id,
                "plan_id": plans[r.codigo_plano],
                "card_number": card_number(prefix, first + i),
                "relationship_code": 1,
                "name": r.nome,
                "cpf": r.cpf,
                "birth_date": date.fromisoformat(r.data_nascimento[:10]),
                "sex": r.sexo,
                "mother_name": r.nome_mae,
                "marital_status": r.estado_civil,
                "email": r.email,
                "phone": r.telefone,
                "cep": r.cep,
                "street": r.logradouro,
                "number": r.numero,
                "neighbourhood": r.bairro,
                "municipality": r.municipio,
                "state": r.uf,
                "admission_date": date.fromisoformat(r.data_admissao[:10]),
                "effective_date": NOW.date(),
                "status": "active",
                "created_at": NOW,
                "updated_at": NOW,
            }
        )
    with engine.begin() as conn:
        conn.execute(insert(Beneficiary), benefs)
        ids = [b["id"] for b in benefs]
        protocol_ids = [first_pid + i for i in range(len(benefs))]
        conn.execute(
            insert(Protocol),
            [
                {
                    "id": pid,
                    "company_id": company_id,
                    "number": f"FLOOR{NOW:%Y%m%d}{i:08d}",
                    "kind": "inclusion",
                    "subject": f"Inclusão: {b['name']}",
                    "description": f"Inclusão (batch): {b['name']} ({b['card_number']})",
                    "status": "closed",
                    "opened_at": NOW,
                    "deadline": NOW.date(),
                    "closed_at": NOW,
                }
                for i, (pid, b) in enumerate(zip(protocol_ids, benefs, strict=True))
            ],
        )
        conn.execute(
            insert(Movement),
            [
                {
                    "company_id": company_id,
                    "beneficiary_id": bid,
                    "kind": "inclusion",
                    "channel": "batch",
                    "effective_date": NOW.date(),
                    "received_at": NOW,
                    "billing_month": NOW.date().replace(day=1),
                    "protocol_id": pid,
                    "new_plan_id": b["plan_id"],
                    "after": _jsonable(b),
                }
                for bid, pid, b in zip(ids, protocol_ids, benefs, strict=True)
            ],
        )
        conn.execute(
            insert(AuditRecord),
            [
                {
                    "at": NOW,
                    "company_id": company_id,
                    "action": "movement_inclusion",
                    "entity": "beneficiary",
                    "entity_id": str(bid),
                    "after": _jsonable(b),
                }
                for bid, b in zip(ids, benefs, strict=True)
            ],
        )
    t1, c1 = time.perf_counter(), time.process_time()
    peak = _maxrss_mb()
    engine.dispose()
    return {"seconds": t1 - t0, "cpu_seconds": c1 - c0, "peak_mb": peak - rss0, "rows": len(ids)}


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date | datetime) else v for k, v in row.items()}


# ---------------------------------------------------------------- driver


def _child(phase: str, url: str, file: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Run one measured phase in a fresh process (its own clean peak memory)."""
    command = [
        sys.executable,
        __file__,
        "--phase",
        phase,
        "--database-url",
        url,
        "--file",
        str(file),
        "--company",
        args.company,
        "--user",
        args.user,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"the {phase} phase failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="sqlite:///PATH of the seeded demo")
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded file")
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--beneficiaries", type=int, default=100_000)
    parser.add_argument("--company", default="10001")
    parser.add_argument("--user", default="100001")
    parser.add_argument("--phase", choices=["batch", "floor"], help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        run = (
            phase_batch(args.database_url, Path(args.file), args.company, args.user)
            if args.phase == "batch"
            else phase_floor(args.database_url, Path(args.file), args.company)
        )
        print(json.dumps(run))
        return 0

    with tempfile.TemporaryDirectory(prefix="portal-bench-") as tmp:
        work = Path(tmp)
        url = args.database_url or f"sqlite:///{work / 'seed.db'}"
        seed(url, args.beneficiaries, args.reuse)
        source = _sqlite_path(url)
        file = work / f"inclusao_{args.lines}.xlsx"
        write_file(url, args.company, args.lines, file)
        size = file.stat().st_size / 1024 / 1024
        print(f"file: {args.lines:,} lines, {size:.1f} MB", file=sys.stderr)
        copies = {}
        for phase in ("batch", "floor"):
            copies[phase] = work / f"{phase}.db"
            shutil.copyfile(source, copies[phase])
        measured = _child("batch", f"sqlite:///{copies['batch']}", file, args)
        floor = _child("floor", f"sqlite:///{copies['floor']}", file, args)
    print(
        f"batch: receive {measured['receive']:.2f} s + apply {measured['apply']:.2f} s "
        f"(cpu {measured['cpu_seconds']:.2f} s); peak +{measured['peak_mb']:.0f} MB "
        f"(+{measured['receive_peak_mb']:.0f} MB by the end of the check; process max "
        f"{measured['maxrss_mb']:.0f} MB)",
        file=sys.stderr,
    )
    print(
        f"floor: {floor['seconds']:.2f} s (cpu {floor['cpu_seconds']:.2f} s); "
        f"peak +{floor['peak_mb']:.0f} MB",
        file=sys.stderr,
    )
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}", file=sys.stderr)
    print(
        f"lines={args.lines} seconds={measured['seconds']:.2f} "
        f"floor_seconds={floor['seconds']:.2f} ratio={measured['seconds'] / floor['seconds']:.2f} "
        f"peak_mb={measured['peak_mb']:.0f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
