"""Cost centres: codes, names, the lookup of a form's or a file's code, the import's
parsing, and the batch file's optional centro_custo column (no database)."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from services.batch.files import BatchFileError, parse_batch_file, template_xlsx
from services.batch.layout import BY_NAME, COLUMN_NAMES, UPDATE_COLUMNS, column_for_field
from services.rules.cost_centres import (
    CODE_MAX,
    IMPORT_MAX_LINES,
    NAME_MAX,
    CostCentreRef,
    ImportRefused,
    check_dependent_cost_centre,
    clean_code,
    clean_name,
    cost_centre_label,
    parse_import_rows,
    resolve_cost_centre,
)
from services.rules.errors import DomainError
from services.rules.movements import MovementKind

CENTRES = {
    "ADM": CostCentreRef(1, "ADM", "Administração"),
    "OLD": CostCentreRef(2, "OLD", "Antigo", active=False),
}


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("adm", "ADM"), ("  ops  1 ", "OPS 1"), ("101", "101"), ("a.b-c_d/e", "A.B-C_D/E")],
)
def test_a_code_is_trimmed_and_upper_cased(typed: str, stored: str):
    assert clean_code(typed) == stored


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("", "Informe o código"),
        ("   ", "Informe o código"),
        ("X" * (CODE_MAX + 1), "no máximo 20"),
        ("AÇÃO", "Código inválido"),
        ("=SOMA(A1)", "Código inválido"),
        ("-ADM", "Código inválido"),
    ],
)
def test_a_bad_code_is_refused_with_what_to_fix(typed: str, words: str):
    with pytest.raises(DomainError, match=words) as info:
        clean_code(typed)
    assert info.value.field == "code"


def test_a_name_keeps_its_case_and_accents_and_refuses_empty_long_or_control_text():
    assert clean_name("  Administração   Central ") == "Administração Central"
    for bad, words in (
        ("", "Informe o nome"),
        ("x" * (NAME_MAX + 1), "no máximo"),
        ("a\x07b", "controle"),
    ):
        with pytest.raises(DomainError, match=words):
            clean_name(bad)


def test_the_label_names_code_and_name_or_says_there_is_none():
    assert cost_centre_label("ADM", "Administração") == "ADM · Administração"
    assert cost_centre_label(None, None) == "Sem centro de custo"


def test_a_code_is_found_whatever_its_case_and_spaces():
    assert resolve_cost_centre(" adm ", CENTRES).id == 1


def test_an_unknown_code_says_where_the_list_is():
    with pytest.raises(DomainError, match="XYZ não existe nesta empresa") as info:
        resolve_cost_centre("xyz", CENTRES)
    assert info.value.field == "cost_centre"
    assert "Empresa > Centros de custo" in info.value.message


def test_a_code_for_a_company_without_a_list_says_to_leave_it_blank():
    with pytest.raises(DomainError, match="não tem centros de custo cadastrados"):
        resolve_cost_centre("ADM", {})


def test_a_missing_code_where_one_is_required_says_the_company_demands_it():
    with pytest.raises(DomainError, match="esta empresa exige um") as info:
        resolve_cost_centre("  ", CENTRES)
    assert info.value.field == "cost_centre"


def test_a_deactivated_cost_centre_cannot_be_chosen():
    with pytest.raises(DomainError, match="OLD está desativado"):
        resolve_cost_centre("old", CENTRES)


def test_a_dependent_may_repeat_its_holders_cost_centre_but_not_name_another():
    check_dependent_cost_centre(None, "ADM")
    check_dependent_cost_centre("", None)
    check_dependent_cost_centre("adm", "ADM")
    with pytest.raises(DomainError, match="o do titular é ADM") as info:
        check_dependent_cost_centre("COM", "ADM")
    assert info.value.field == "cost_centre"
    with pytest.raises(DomainError, match="o titular não tem um"):
        check_dependent_cost_centre("COM", None)


# ---------------------------------------------------------------- import


def test_an_imported_list_reads_codigo_and_nome_in_any_order_and_case():
    rows: list[list[object]] = [
        ["Nome", "Código", "observação"],
        ["Administração", "adm", "x"],
        [None, None, None],
        ["Fábrica", 101.0, ""],
    ]
    lines = parse_import_rows(rows)
    assert [(x.line_number, x.code, x.name) for x in lines] == [
        (2, "ADM", "Administração"),
        (4, "101", "Fábrica"),
    ]


def test_every_bad_line_of_an_import_is_listed_and_nothing_is_taken():
    rows = [
        ["codigo", "nome"],
        ["ADM", "Administração"],
        ["", "Sem código"],
        ["COM", ""],
        ["adm", "De novo"],
        ["X" * 30, "Longo"],
    ]
    with pytest.raises(ImportRefused) as info:
        parse_import_rows(rows)
    problems = info.value.problems
    assert len(problems) == 4
    assert problems[0].startswith("Linha 3: codigo: Informe o código")
    assert problems[1].startswith("Linha 4: nome: Informe o nome")
    assert problems[2] == "Linha 5: codigo: ADM já aparece na linha 2."
    assert problems[3].startswith("Linha 6: codigo: O código tem no máximo")
    assert "Nada foi importado" in info.value.message


@pytest.mark.parametrize(
    ("rows", "words"),
    [
        ([], "vazio"),
        ([["codigo", "descricao"], ["A", "B"]], "cabeçalho"),
        ([["codigo", "nome"]], "não tem centros de custo"),
    ],
)
def test_an_import_without_header_or_lines_is_refused(rows: list[list[str]], words: str):
    with pytest.raises(DomainError, match=words):
        parse_import_rows(rows)


# ---------------------------------------------------------------- batch column


def _csv(header: list[str], *lines: dict[str, str]) -> bytes:
    body = [";".join(header)] + [";".join(line.get(c, "") for c in header) for line in lines]
    return ("\n".join(body) + "\n").encode("utf-8")


HOLDER = {
    "tipo_movimento": "INCLUSAO",
    "cpf": "52998224725",
    "nome": "MARIA DA SILVA",
    "data_nascimento": "15/03/1985",
    "sexo": "F",
    "nome_mae": "ANA DA SILVA",
    "cep": "01310100",
    "municipio": "SAO PAULO",
    "uf": "SP",
    "data_admissao": "02/01/2024",
    "parentesco": "1",
    "codigo_plano": "ODT-ESS",
}


def test_the_batch_layout_has_an_optional_centro_custo_column_for_inclusion_and_update():
    column = BY_NAME["centro_custo"]
    assert column.optional and column.field == "cost_centre"
    assert column.used_for == {MovementKind.INCLUSION, MovementKind.UPDATE}
    assert column.required_for == set()
    assert "centro_custo" in UPDATE_COLUMNS
    assert column_for_field("cost_centre") == "centro_custo"


def test_a_file_made_before_the_column_existed_is_still_read():
    header = [c for c in COLUMN_NAMES if c != "centro_custo"]
    parsed = parse_batch_file("lote.csv", _csv(header, HOLDER))
    (line,) = parsed.lines
    assert not line.problems
    assert line.values["centro_custo"] is None
    assert "centro_custo" not in parsed.columns


def test_the_centro_custo_value_is_kept_for_an_inclusion_and_ignored_for_an_exclusion():
    exclusion = {
        "tipo_movimento": "EXCLUSAO",
        "carteirinha": "0001000000000018",
        "motivo_exclusao": "pedido",
        "centro_custo": "ADM",
    }
    parsed = parse_batch_file(
        "lote.csv", _csv(list(COLUMN_NAMES), {**HOLDER, "centro_custo": " adm "}, exclusion)
    )
    holder, excluded = parsed.lines
    assert holder.values["centro_custo"] == "adm"  # the engine compares codes by key
    assert excluded.values["centro_custo"] is None
    assert "centro_custo: ignorada em EXCLUSAO" in excluded.warnings


def test_an_update_line_with_only_a_cost_centre_is_not_empty():
    update = {
        "tipo_movimento": "ALTERACAO",
        "carteirinha": "0001000000000018",
        "centro_custo": "COM",
    }
    (line,) = parse_batch_file("lote.csv", _csv(list(COLUMN_NAMES), update)).lines
    assert not line.problems
    empty = {"tipo_movimento": "ALTERACAO", "carteirinha": "0001000000000018"}
    (line,) = parse_batch_file("lote.csv", _csv(list(COLUMN_NAMES), empty)).lines
    assert "Alteração sem dados" in line.problem_message()


def test_a_too_long_cost_centre_is_a_problem_of_its_line():
    (line,) = parse_batch_file(
        "lote.csv", _csv(list(COLUMN_NAMES), {**HOLDER, "centro_custo": "X" * 21})
    ).lines
    assert "centro_custo" in line.problems


def test_the_other_columns_are_still_required_in_the_header():
    header = [c for c in COLUMN_NAMES if c != "nome"]
    with pytest.raises(BatchFileError, match="faltam as colunas nome"):
        parse_batch_file("lote.csv", _csv(header, HOLDER))


def test_the_template_offers_the_companys_cost_centres_and_still_reads_back():
    content = template_xlsx(
        [("ODT-ESS", "Sorriso Essencial")], "10001", [("ADM", "Adm"), ("TI", "TI")]
    )
    book = load_workbook(io.BytesIO(content))
    lists = book["Listas"]
    column = next(c for c in lists[1] if c.value == "centro_custo")
    assert [lists.cell(r, column.column).value for r in (2, 3)] == ["ADM", "TI"]
    guide = [c.value for row in book["Instrucoes"].iter_rows() for c in row if c.value]
    assert "Centros de custo do titular (centro_custo)" in guide
    with pytest.raises(BatchFileError, match="não tem linhas"):
        parse_batch_file("modelo.xlsx", content)  # the header is read: only no lines yet
    plain = load_workbook(io.BytesIO(template_xlsx([("ODT-ESS", "Sorriso Essencial")], "10001")))
    assert "centro_custo" not in [c.value for c in plain["Listas"][1]]


def test_an_import_longer_than_the_limit_is_refused_whole():
    rows = [["codigo", "nome"]] + [[f"C{i}", f"Centro {i}"] for i in range(IMPORT_MAX_LINES + 1)]
    with pytest.raises(DomainError, match=f"passa de {IMPORT_MAX_LINES} linhas"):
        parse_import_rows(rows)
    assert len(parse_import_rows(rows[:-1])) == IMPORT_MAX_LINES
