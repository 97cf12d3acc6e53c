"""`portal-batch`: the batch movements from the command line (SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

import demo.generator
from config import get_settings
from data.models import BatchFile, Beneficiary
from services.batch import cli as batch_cli
from services.batch import processing
from services.jobs import batch as jobs_batch
from services.jobs.consumer import queue_close
from services.jobs.queue import JobQueue, queue_for
from tests.services.movements_support import World, make_world, new_cpf
from tests.services.test_batch import holder_line, xlsx


@pytest.fixture
def world(sqlite_engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setattr(demo.generator, "BCRYPT_COST", 4)
    w = make_world(sqlite_engine)
    monkeypatch.setenv("PORTAL_DATABASE_URL", sqlite_engine.url.render_as_string(False))
    get_settings.cache_clear()
    yield w
    get_settings.cache_clear()


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str], str]:
    status = batch_cli.main(list(args))
    out, err = capsys.readouterr()
    return status, out.splitlines(), err


def beneficiaries(w: World) -> int:
    with w.factory() as s:
        return s.scalar(select(func.count()).select_from(Beneficiary)) or 0


def test_a_mixed_file_is_applied_and_the_last_line_counts_accepted_and_refused(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    file = tmp_path / "lote.xlsx"
    file.write_bytes(xlsx([holder_line(world), holder_line(world), holder_line(world, "1234")]))
    before = beneficiaries(world)
    status, out, err = run(capsys, str(file), "--company", "10001", "--user", "100001")
    assert status == 0, err
    assert out[-1] == "accepted=2 refused=1"
    assert "linha 4:" in err and "aplicando: 2/2" in err
    assert beneficiaries(world) == before + 2
    with world.factory() as s:
        assert s.scalars(select(BatchFile.status)).one() == "done_with_refusals"


def test_a_file_refused_as_a_whole_exits_with_status_2(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    file = tmp_path / "lote.txt"
    file.write_text("tipo_movimento;cpf\nINCLUSAO;52998224725\n")
    status, out, err = run(capsys, str(file), "--company", "10001", "--user", "100001")
    assert status == 2
    assert out[-1] == "accepted=0 refused=0"
    assert "arquivo recusado: Formato de arquivo não aceito" in err


def test_check_only_applies_nothing(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    file = tmp_path / "lote.xlsx"
    file.write_bytes(xlsx([holder_line(world, new_cpf()), holder_line(world, "1234")]))
    before = beneficiaries(world)
    status, out, _ = run(
        capsys, str(file), "--company", "10001", "--user", "100001", "--check-only"
    )
    assert status == 0
    assert out[-1] == "accepted=1 refused=1"
    assert beneficiaries(world) == before
    with world.factory() as s:
        assert s.scalars(select(BatchFile.status)).one() == "received"


def test_template_writes_the_companys_template(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    target = tmp_path / "modelo.xlsx"
    status, _, err = run(capsys, "--template", str(target), "--company", "10001")
    assert status == 0, err
    book = load_workbook(target)
    assert book.sheetnames[0] == "Movimentacoes" and "Instrucoes" in book.sheetnames
    assert book["Movimentacoes"]["A1"].value == "tipo_movimento"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--company", "99999", "--user", "100001"], "empresa 99999 não encontrada"),
        (["--company", "10001", "--user", "999999"], "usuário 999999 não encontrado"),
        (["--company", "10005", "--user", "100001"], "não tem acesso a esta empresa"),
        (["--company", "10001"], "informe o arquivo e --user"),
    ],
)
def test_wrong_company_or_user_exit_with_status_2_and_say_why(
    world: World,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
):
    file = tmp_path / "lote.xlsx"
    file.write_bytes(xlsx([holder_line(world)]))
    status, _, err = run(capsys, str(file), *args)
    assert status == 2
    assert message in err


def test_lines_accepted_with_a_warning_are_printed_with_their_message(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    file = tmp_path / "lote.xlsx"
    warned = holder_line(world, motivo_exclusao="DEMISSAO")  # not used by an inclusion
    file.write_bytes(xlsx([holder_line(world), warned, holder_line(world, "1234")]))
    status, out, err = run(
        capsys, str(file), "--company", "10001", "--user", "100001", "--check-only"
    )
    assert status == 0, err
    assert out[-1] == "accepted=2 refused=1"
    assert "linha 3 (aviso): motivo_exclusao: ignorada em INCLUSAO." in err.splitlines()
    assert "1 linha(s) aceita(s) com aviso: confira-as" in err
    assert "linha 4: " in err and "linha 2" not in err


@pytest.fixture
def queue(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[JobQueue]:
    """The embedded queue, in the test's folder, that portal-batch writes its heartbeat
    to (no consumer: a worker's periodic check is called by the test itself)."""
    monkeypatch.setenv("PORTAL_QUEUE_URL", "")
    monkeypatch.setenv("PORTAL_QUEUE_PATH", str(tmp_path / "queue.db"))
    jobs = queue_for(get_settings().database_url)
    yield jobs
    queue_close(jobs)


def _batch_id(w: World) -> int:
    with w.factory() as s:
        return s.scalars(select(BatchFile.id).order_by(BatchFile.id.desc())).first() or 0


def test_while_it_applies_a_worker_s_periodic_check_leaves_its_batch_alone(
    world: World,
    queue: JobQueue,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setattr(processing, "CHUNK", 1)
    real_apply = processing.batch_apply
    seen: list[tuple[str | None, list[int]]] = []

    def observed(**kwargs: Any) -> Any:
        cli_progress = kwargs.pop("progress")

        def progress(done: int, total: int) -> None:
            cli_progress(done, total)
            # A worker's periodic check, between two of the CLI's chunks.
            beat = queue.last_beat(f"batch:{kwargs['batch_id']}")
            seen.append((beat and beat.kind, jobs_batch.resume_stalled_batches(queue)))

        return real_apply(progress=progress, **kwargs)

    monkeypatch.setattr(processing, "batch_apply", observed)
    file = tmp_path / "lote.xlsx"
    file.write_bytes(xlsx([holder_line(world) for _ in range(3)]))
    status, out, err = run(capsys, str(file), "--company", "10001", "--user", "100001")
    assert status == 0, err
    assert out[-1] == "accepted=3 refused=0"
    assert seen == [("running", [])] * 3  # never taken for a dead job
    assert queue.huey.pending_count() == 0  # nothing queued again
    assert queue.last_beat(f"batch:{_batch_id(world)}") is None  # done: none left


def test_a_cli_stopped_half_way_leaves_its_heartbeat_to_age(
    world: World,
    queue: JobQueue,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setattr(processing, "CHUNK", 1)

    def stopped(done: int, total: int) -> None:
        raise KeyboardInterrupt  # Ctrl-C after the first chunk

    real_apply = processing.batch_apply
    monkeypatch.setattr(
        processing,
        "batch_apply",
        lambda **kwargs: real_apply(**{**kwargs, "progress": stopped}),
    )
    file = tmp_path / "lote.xlsx"
    file.write_bytes(xlsx([holder_line(world) for _ in range(2)]))
    with pytest.raises(KeyboardInterrupt):
        run(capsys, str(file), "--company", "10001", "--user", "100001")
    beat = queue.last_beat(f"batch:{_batch_id(world)}")
    assert beat is not None and beat.kind == "running"  # it ages; then a worker resumes it


def test_without_its_task_queue_nothing_is_applied(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
):
    monkeypatch.setenv("PORTAL_QUEUE_URL", "amqp://fila")
    file = tmp_path / "lote.xlsx"
    file.write_bytes(xlsx([holder_line(world)]))
    before = beneficiaries(world)
    status, _, err = run(capsys, str(file), "--company", "10001", "--user", "100001")
    assert status == 2
    assert "fila de tarefas indisponível" in err
    assert beneficiaries(world) == before
