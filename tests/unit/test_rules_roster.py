"""Roster reconciliation rules: reading a roster (headers, CPFs, dates, line errors) and
the three lists, on small vectors; and one 100,000-line roster, fast."""

from __future__ import annotations

import time
from datetime import date, datetime

import pytest

from services.rules.documents import cpf_check_digits
from services.rules.errors import DomainError
from services.rules.roster import (
    NOT_ON_ROSTER,
    HolderRecord,
    header_key,
    parse_date,
    parse_roster,
    parse_roster_cpf,
    reconcile,
)

A, B, C, D, E = "52998224725", "11144477735", "39053344705", "15350946056", "87748248800"


def cpf_of(n: int) -> str:
    first9 = f"{n:09d}"
    return first9 + cpf_check_digits(first9)


def holder(
    cpf: str,
    name: str = "ANA",
    card: str = "1",
    *,
    status: str = "active",
    cost_centre: str = "",
    exclusion_date: date | None = None,
    stay_until: date | None = None,
    stay: bool = False,
) -> HolderRecord:
    return HolderRecord(cpf, name, card, status, cost_centre, exclusion_date, stay_until, stay)


# ---------------------------------------------------------------- reading


@pytest.mark.parametrize(
    ("cell", "key"),
    [("CPF", "cpf"), (" Cpf: ", "cpf"), ("Data de Admissão", "data_de_admissao"),
     ("Centro de Custo", "centro_de_custo"), ("DATA_DEMISSAO", "data_demissao")],
)  # fmt: skip
def test_header_keys_ignore_case_accents_and_punctuation(cell: str, key: str) -> None:
    assert header_key(cell) == key


def test_known_headers_mapped() -> None:
    roster = parse_roster(
        [
            ["Matrícula", "Nome do Funcionário", "C.P.F.", "Admissão", "Data de Desligamento",
             "Lotação"],
            ["77", "Ana  Souza", "529.982.247-25", "02/01/2024", "", "adm"],
        ]
    )  # fmt: skip
    assert roster.columns == ("cpf", "nome", "data_admissao", "data_demissao", "centro_custo")
    assert roster.ignored == ("Matrícula",)
    entry = roster.entries[A]
    assert (entry.line, entry.name, entry.admission, entry.dismissal, entry.cost_centre) == (
        2, "Ana Souza", date(2024, 1, 2), None, "ADM",
    )  # fmt: skip


def test_a_file_without_a_cpf_column_is_refused_in_portuguese() -> None:
    with pytest.raises(DomainError, match="não tem a coluna CPF"):
        parse_roster([["nome", "admissao"], ["ANA", "01/01/2020"]])


def test_a_file_without_lines_is_refused() -> None:
    with pytest.raises(DomainError, match="não tem empregados"):
        parse_roster([["CPF"], [], ["  "]])


def test_two_columns_for_the_same_field_are_refused() -> None:
    with pytest.raises(DomainError, match="duas colunas"):
        parse_roster([["cpf", "nome", "colaborador"], [A, "X", "Y"]])


def test_only_cpf_is_required_and_cpfs_come_in_any_form() -> None:
    roster = parse_roster([["CPF"], [A], ["111.444.777-35"], [39053344705.0], [int(D)]])
    assert set(roster.entries) == {A, B, C, D}
    assert roster.errors == []


def test_invalid_cpfs_repeated_cpfs_and_bad_dates_are_line_errors_not_fatal() -> None:
    roster = parse_roster(
        [
            ["cpf", "data_demissao"],
            ["12345678900", ""],
            ["abc", ""],
            [A, ""],
            ["529.982.247-25", ""],
            [B, "31/02/2026"],
            ["", ""],  # blank line: skipped
            [None, "01/01/2026"],
        ]
    )
    by_line = {e.line: e for e in roster.errors}
    assert set(by_line) == {2, 3, 5, 6, 8}
    assert "CPF inválido" in by_line[2].message and by_line[2].value == "12345678900"
    assert "CPF inválido" in by_line[3].message
    assert "repetido" in by_line[5].message and "linha 4" in by_line[5].message
    assert "Demissão" in by_line[6].message and "presente na folha" in by_line[6].message
    assert "CPF vazio" in by_line[8].message
    assert set(roster.entries) == {A}
    assert roster.present == {A, B}  # B's bad date never makes B "not on the roster"
    assert roster.lines == 6


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("05/03/2026", date(2026, 3, 5)),
        ("2026-03-05", date(2026, 3, 5)),
        ("05032026", date(2026, 3, 5)),
        (datetime(2026, 3, 5, 0, 0), date(2026, 3, 5)),
        (46086, date(2026, 3, 5)),
        ("", None),
        (None, None),
    ],
)
def test_dates(value: object, expected: date | None) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize("value", ["5/3/26", "31/02/2026", "ontem"])
def test_bad_dates(value: str) -> None:
    with pytest.raises(DomainError, match="dd/mm/aaaa"):
        parse_date(value)


def test_cpf_lost_leading_zeros_is_recovered() -> None:
    cpf = cpf_of(1234567)  # "001234567" + check digits
    assert cpf.startswith("00")
    assert parse_roster_cpf(float(int(cpf))) == cpf


# ---------------------------------------------------------------- the three lists


def test_the_three_lists() -> None:
    roster = parse_roster(
        [
            ["cpf", "nome", "data_demissao", "centro_custo"],
            [A, "ANA SILVA", "", "ADM"],  # active, same data -> nothing
            [B, "Bruno Lima", "20/11/2026", ""],  # active, dismissed -> exclusion
            [C, "CARLA NOVA", "", "COM"],  # not a beneficiary -> inclusion
            [E, "Élio Sá", "", "FAB"],  # active, other name spelling, other cost centre
        ]
    )
    holders = [
        holder(A, "Ana Silva", "10", cost_centre="ADM"),
        holder(B, "BRUNO LIMA", "20"),
        holder(D, "DORA", "30"),  # active, not on the roster -> exclusion
        holder(E, "ELIO SA JR", "50", cost_centre="ADM"),
        holder("00000000191", "OLD", "60", status="inactive"),
    ]
    r = reconcile(roster, holders, cost_centre_codes={"ADM", "COM"})
    assert [(o.entry.cpf, o.reactivation_card) for o in r.inclusions] == [(C, "")]
    assert [(o.holder.cpf, o.reason, o.suggested_reason) for o in r.exclusions] == [
        (B, "demitido em 20/11/2026", "demissao"),
        (D, NOT_ON_ROSTER, None),
    ]
    [update] = r.updates
    assert (update.holder.cpf, update.new_name, update.new_cost_centre) == (E, "Élio Sá", "FAB")
    assert update.unknown_cost_centre  # FAB is not in the company's list


def test_accents_case_and_spaces_alone_are_no_difference() -> None:
    roster = parse_roster([["cpf", "nome", "centro_custo"], [A, "JOSÉ  DA SILVA", "adm"]])
    r = reconcile(roster, [holder(A, "Jose da Silva", cost_centre="ADM")])
    assert (r.inclusions, r.exclusions, r.updates) == ([], [], [])


def test_an_empty_optional_cell_is_no_difference() -> None:
    roster = parse_roster([["cpf", "nome", "centro_custo"], [A, "", ""]])
    r = reconcile(roster, [holder(A, "ANA", cost_centre="ADM")])
    assert r.updates == []


def test_a_former_holder_on_the_roster_is_offered_reactivation() -> None:
    roster = parse_roster([["cpf"], [A]])
    r = reconcile(roster, [holder(A, "ANA", "77", status="inactive")])
    assert [(o.entry.cpf, o.reactivation_card, o.former_name) for o in r.inclusions] == [
        (A, "77", "ANA")
    ]


def test_dismissed_not_beneficiary_and_dependents_are_not_offered_inclusion() -> None:
    roster = parse_roster([["cpf", "data_demissao"], [A, "01/10/2026"], [B, ""]])
    r = reconcile(roster, [], active_dependent_cpfs={B})
    assert r.inclusions == [] and r.exclusions == []
    assert any("dependentes" in text for text in r.left_out)


def test_stays_and_scheduled_exclusions_are_left_out() -> None:
    roster = parse_roster([["cpf", "data_demissao"], [A, "01/10/2026"], [E, ""]])
    holders = [
        holder(A, stay=True),  # dismissed, in an arts. 30/31 stay
        holder(B, card="2", stay=True, stay_until=date(2027, 5, 1)),  # not on the roster
        holder(C, card="3", exclusion_date=date(2026, 12, 1)),  # exclusion scheduled
    ]
    r = reconcile(roster, holders)
    assert r.exclusions == []
    assert len(r.left_out) == 2


def test_a_line_with_a_bad_date_never_offers_an_exclusion() -> None:
    roster = parse_roster([["cpf", "data_demissao"], [A, "99/99/2026"]])
    r = reconcile(roster, [holder(A)])
    assert r.exclusions == [] and len(roster.errors) == 1


def test_100000_lines_are_reconciled_quickly() -> None:
    rows: list[list[object]] = [["cpf", "nome", "data_admissao", "data_demissao", "centro_custo"]]
    holders = []
    for n in range(1, 100_001):
        cpf = cpf_of(n)
        rows.append([cpf, f"EMPREGADO {n}", "02/01/2020", "05/11/2026" if n % 10 == 0 else "",
                     "ADM"])  # fmt: skip
        if n % 2 == 0:
            holders.append(holder(cpf, f"EMPREGADO {n}", str(n), cost_centre="ADM"))
    for n in range(200_001, 210_001):
        holders.append(holder(cpf_of(n), f"X {n}", str(n)))
    started = time.perf_counter()
    roster = parse_roster(rows)
    r = reconcile(roster, holders)
    elapsed = time.perf_counter() - started
    assert len(r.inclusions) == 50_000  # odd (never dismissed: multiples of 10 are even)
    assert len(r.exclusions) == 10_000 + 10_000  # holders dismissed; not on the roster
    assert r.updates == []
    assert elapsed < 15, elapsed
