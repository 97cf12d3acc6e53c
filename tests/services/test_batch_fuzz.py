"""Batch movements fuzzed on both databases: garbage files and random (mostly refused)
lines go through `batch_receive`, and through `batch_apply` when the file had accepted
lines, over the small seeded world of the batch tests.

What must hold for any file: only a `DomainError` escapes (`BatchFileError` for a file
refused as a whole); a refused file leaves nothing but its refused `batch_file` record; a
received file writes only its batch lines and the receipt's audit record; applying writes
exactly one beneficiary, movement and protocol per applied line (every line the check
accepted, since nothing changed in between) and nothing for a refused line.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

import demo.generator
from data.models import (
    AuditRecord,
    BatchFile,
    BatchLine,
    Beneficiary,
    Movement,
    Protocol,
    ProtocolEvent,
)
from services.batch.layout import COLUMN_NAMES
from services.batch.processing import BatchCheck, BatchFileError, batch_apply, batch_lines
from services.rules.documents import is_valid_cpf
from tests.services.movements_support import NOW, World, make_world, new_cpf
from tests.services.test_batch import csv_file, holder_line, receive, xlsx

DB_FUZZ = settings(
    max_examples=50,
    database=None,
    deadline=None,
    derandomize=os.environ.get("PORTAL_FUZZ_RANDOM") != "1",
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # one world per database; examples add to it
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
TABLES = {
    "beneficiary": Beneficiary,
    "movement": Movement,
    "protocol": Protocol,
    "protocol_event": ProtocolEvent,
    "audit_record": AuditRecord,
    "batch_file": BatchFile,
    "batch_line": BatchLine,
}


@pytest.fixture
def world(engine, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setattr(demo.generator, "BCRYPT_COST", 4)
    return make_world(engine)


def counts(w: World) -> dict[str, int]:
    with w.factory() as s:
        return {
            name: s.scalar(select(func.count()).select_from(model)) or 0
            for name, model in TABLES.items()
        }


def gained(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {t: after[t] - before[t] for t in before if after[t] != before[t]}


def beneficiaries_with_cpf(w: World, cpf: str) -> int:
    with w.factory() as s:
        return s.scalar(select(func.count()).where(Beneficiary.cpf == cpf)) or 0


def receive_and_apply(w: World, content: bytes, name: str) -> BatchCheck | None:
    """Receive the file (and apply it when it had accepted lines), checking what each step
    wrote; None when the file was refused as a whole."""
    before = counts(w)
    try:
        check = receive(w, content, name)
    except BatchFileError as exc:
        assert exc.message
        event("file refused as a whole")
        assert gained(before, counts(w)) == {"batch_file": 1}
        with w.factory() as s:
            last = s.scalars(select(BatchFile).order_by(BatchFile.id.desc()).limit(1)).one()
            assert (last.status, last.message, last.content) == ("refused", exc.message, None)
            assert last.file_name == name[:255]
        return None
    total = len(check.lines)
    accepted = sum(line.status in ("accepted", "warning") for line in check.lines)
    assert check.batch.total_lines == total >= 1
    assert check.batch.accepted_lines == accepted
    assert check.batch.refused_lines == total - accepted
    assert gained(before, counts(w)) == {"batch_file": 1, "batch_line": total, "audit_record": 1}
    event("every line refused" if not accepted else "some line accepted and applied")
    if not accepted:
        return check

    before = counts(w)
    result = batch_apply(uow=w.uow(), actor=w.master, batch_id=check.batch.id, now=NOW)
    # Nothing changed since the check: the lines it accepted are applied, the others not.
    assert (result.applied, result.refused) == (accepted, total - accepted)
    statuses = {line.line_number: line.status for line in check.lines}
    applied = {
        line.line_number
        for line in batch_lines(uow=w.uow(), actor=w.master, batch_id=check.batch.id)
        if line.status == "applied"
    }
    assert applied == {n for n, s in statuses.items() if s in ("accepted", "warning")}
    # Only inclusions can be accepted here (no line names a card of the world): one
    # beneficiary, movement and protocol (received and done: two events) per applied line.
    assert gained(before, counts(w)) == {
        "beneficiary": accepted,
        "movement": accepted,
        "protocol": accepted,
        "protocol_event": 2 * accepted,
        "audit_record": accepted + 1,  # each inclusion, and the batch's own
    }
    return check


# ---------------------------------------------------------------- garbage files


@st.composite
def garbled(draw: st.DrawFn, original: bytes) -> bytes:
    content = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, max(0, len(content) - 1)))
        how = draw(st.sampled_from(["flip", "cut", "insert", "truncate"]))
        if how == "flip" and at < len(content):
            content[at] = draw(st.integers(0, 255))
        elif how == "cut":
            del content[at : at + draw(st.integers(1, 100))]
        elif how == "insert":
            content[at:at] = draw(st.binary(min_size=1, max_size=30))
        else:
            del content[at:]
    return bytes(content)


_ORIGINALS: dict[tuple[str, str], bytes] = {}


def _original(w: World, name: str) -> bytes:
    """A file with a valid and a refused line, built once (the garbling draws depend on
    its bytes, which must not change from one example to the next)."""
    key = (name, w.engine.url.render_as_string())
    if key not in _ORIGINALS:
        lines = [holder_line(w, new_cpf()), holder_line(w, "12345678900")]
        _ORIGINALS[key] = xlsx(lines) if name.endswith(".xlsx") else csv_file(lines)
    return _ORIGINALS[key]


@pytest.mark.timeout(240)
@DB_FUZZ
@given(data=st.data())
def test_a_garbage_file_writes_nothing_but_its_refusal(world: World, data: st.DataObject):
    w = world
    kind = data.draw(st.sampled_from(["bytes", "csv text", "garbled xlsx", "garbled csv"]))
    name = data.draw(st.sampled_from(["lote.xlsx", "lote.csv", "lote.txt", "x" * 300 + ".csv"]))
    if kind == "bytes":
        content = data.draw(st.binary(max_size=400))
    elif kind == "csv text":
        header = ";".join(data.draw(st.permutations(COLUMN_NAMES)))
        content = (header + "\n" + data.draw(st.text(max_size=400))).encode("utf-8", "replace")
        name = "lote.csv"
    else:
        name = "lote.xlsx" if kind == "garbled xlsx" else "lote.csv"
        content = data.draw(garbled(_original(w, name)))
    receive_and_apply(w, content, name)


# ---------------------------------------------------------------- random lines

BAD_VALUES = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            " ",
            "12345678900",
            "1234",
            "abc",
            "31/02/2020",
            "01/01/2999",
            "15/03/85",
            "1e5",
            "X",
            "ZZ",
            "9",
            "3",
            "4",
            "00000000",
            "NAO-EXISTE",
            "INCLUIR",
            "EXCLUSAO",
            "ALTERACAO",
            "REATIVACAO",
            "TRANSFERENCIA",
            "9999999999999999",  # a card number no one has
            "99999",  # a company code no one has
            "NOME 123",
            '=HYPERLINK("http://x")',
            "\x01NOME",
            "a@",
            "N" * 300,
        ]
    ),
)
# (how the line starts, columns overwritten with bad values)
LINE_SPECS = st.tuples(
    st.sampled_from(["fresh holder", "taken cpf", "cpf of an earlier line", "only bad values"]),
    st.one_of(st.just({}), st.dictionaries(st.sampled_from(COLUMN_NAMES), BAD_VALUES, max_size=3)),
)


def build_lines(w: World, specs: list[tuple[str, dict[str, str]]]) -> list[dict[str, Any]]:
    taken = w.holder().cpf
    lines: list[dict[str, Any]] = []
    for start, bad in specs:
        if start == "fresh holder":
            line = holder_line(w, new_cpf())
        elif start == "taken cpf":
            line = holder_line(w, taken)
        elif start == "cpf of an earlier line":
            earlier = [str(x["cpf"]) for x in lines if x.get("cpf")]
            line = holder_line(w, earlier[-1] if earlier else new_cpf())
        else:
            line = {"tipo_movimento": "INCLUSAO"}
        line.update(bad)
        lines.append(line)
    return lines


def xlsx_as_text(lines: list[dict[str, Any]]) -> bytes:
    """The lines in an xlsx whose cells are all text (so "=..." stays text, not a formula)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Movimentacoes"
    ws.append(list(COLUMN_NAMES))
    for r, line in enumerate(lines, start=2):
        for c, name in enumerate(COLUMN_NAMES, start=1):
            value = line.get(name)
            if value not in (None, ""):
                cell = ws.cell(r, c)
                cell.value = "".join(ch for ch in str(value) if ch >= " " or ch in "\t\n\r")
                cell.data_type = "s"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def raw_csv(lines: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(COLUMN_NAMES)
    writer.writerows([str(line.get(c) or "") for c in COLUMN_NAMES] for line in lines)
    return out.getvalue().encode("utf-8")


FORMATS: dict[str, Callable[[list[dict[str, Any]]], bytes]] = {
    "lote.csv": raw_csv,
    "lote.xlsx": xlsx_as_text,
}


@pytest.mark.timeout(240)
@DB_FUZZ
@given(specs=st.lists(LINE_SPECS, min_size=1, max_size=6), name=st.sampled_from(sorted(FORMATS)))
def test_random_lines_write_exactly_their_accepted_inclusions(
    world: World, specs: list[tuple[str, dict[str, str]]], name: str
):
    w = world
    lines = build_lines(w, specs)
    cpfs = {str(line["cpf"]) for line in lines if is_valid_cpf(str(line.get("cpf") or ""))}
    had = {cpf: beneficiaries_with_cpf(w, cpf) for cpf in cpfs}
    check = receive_and_apply(w, FORMATS[name](lines), name)
    if check is None:  # a garbage name or cell can refuse the whole file
        return
    results = {r.line_number: r for r in check.lines}  # a blank row is no line at all
    applied_cpfs: list[str] = []
    for row, line in enumerate(lines, start=2):
        result = results.get(row)
        if result is not None and result.status in ("accepted", "warning"):
            assert str(line["cpf"]) in cpfs  # only holders with a valid CPF get through
            applied_cpfs.append(str(line["cpf"]))
    # Each applied CPF once more; a CPF only in refused lines gained no beneficiary.
    for cpf in cpfs:
        assert beneficiaries_with_cpf(w, cpf) == had[cpf] + applied_cpfs.count(cpf), cpf
    assert len(applied_cpfs) == len(set(applied_cpfs))
