"""Batch movement files: layout, template, parser (every refusal) and result file."""

from __future__ import annotations

import csv
import io
import time
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from openpyxl import Workbook, load_workbook

from services.batch.files import (
    LINE,
    BatchFileError,
    ParsedBatch,
    parse_batch_file,
    result_csv,
    result_xlsx,
    template_xlsx,
)
from services.batch.layout import (
    COLUMN_NAMES,
    COLUMNS,
    EXAMPLE_CARD,
    column_for_field,
    layout_csv,
    layout_rows,
    layout_xlsx,
)
from services.exports import neutralise
from services.rules.documents import cpf_check_digits
from services.rules.movements import MovementKind

PLANS = [("ODT-ESS", "Sorriso Essencial"), ("ODT-PLUS", "Sorriso Plus")]
HOLDER: dict[str, Any] = {
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
EXCLUSION: dict[str, Any] = {
    "tipo_movimento": "EXCLUSAO",
    "carteirinha": EXAMPLE_CARD,
    "motivo_exclusao": "pedido",
}


# ---------------------------------------------------------------- builders


def xlsx(lines: list[dict[str, Any]], header: list[str] | None = None, **kw: Any) -> bytes:
    """An xlsx with the header and one row per dict (missing columns empty)."""
    header = list(COLUMN_NAMES) if header is None else header
    wb = Workbook()
    ws = wb.active
    ws.title = kw.get("sheet", "Movimentacoes")
    ws.append(header)
    for line in lines:
        ws.append([line.get(name) for name in header])
    if "setup" in kw:
        kw["setup"](ws)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def csv_file(
    lines: list[dict[str, Any]], *, delimiter: str = ";", encoding: str = "utf-8"
) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(COLUMN_NAMES)
    for line in lines:
        writer.writerow([line.get(name, "") for name in COLUMN_NAMES])
    return out.getvalue().encode(encoding)


def fast_xlsx(rows: list[list[str]]) -> bytes:
    """A minimal xlsx (inline strings) written by hand: openpyxl takes too long for 100,000
    lines, and this is also what other tools produce."""
    sheet = io.StringIO()
    sheet.write(
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        "<sheetData>"
    )
    for r, row in enumerate(rows, start=1):
        sheet.write(f'<row r="{r}">')
        for value in row:
            if value:
                sheet.write(f'<c t="inlineStr"><is><t>{escape(value)}</t></is></c>')
            else:
                sheet.write("<c/>")
        sheet.write("</row>")
    sheet.write("</sheetData></worksheet>")
    main = "http://schemas.openxmlformats.org"
    parts = {
        "[Content_Types].xml": (
            f'<Types xmlns="{main}/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{main}/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{main}/officeDocument/2006/relationships/'
            'officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{main}/spreadsheetml/2006/main" '
            f'xmlns:r="{main}/officeDocument/2006/relationships"><sheets>'
            '<sheet name="Movimentacoes" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{main}/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{main}/officeDocument/2006/relationships/'
            'worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": sheet.getvalue(),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, text in parts.items():
            zf.writestr(path, text)
    return out.getvalue()


def only_line(content: bytes, name: str = "lote.xlsx", **kw: Any) -> Any:
    parsed = parse_batch_file(name, content, **kw)
    assert len(parsed.lines) == 1
    return parsed.lines[0]


def refusal(name: str, content: bytes, **kw: Any) -> str:
    with pytest.raises(BatchFileError) as caught:
        parse_batch_file(name, content, **kw)
    return caught.value.message


# ---------------------------------------------------------------- file-level refusals


@pytest.mark.parametrize("name", ["lote.pdf", "lote.txt", "lote", "lote.xlsx.exe"])
def test_a_file_that_is_not_xlsx_or_csv_is_refused(name: str) -> None:
    assert "Formato de arquivo não aceito" in refusal(name, b"qualquer coisa")


def test_an_old_xls_file_is_refused_with_how_to_save_it_as_xlsx() -> None:
    message = refusal("lote.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    assert ".xls" in message and ".xlsx" in message


def test_a_text_file_named_xlsx_is_refused() -> None:
    message = refusal("lote.xlsx", csv_file([HOLDER]))
    assert "não é uma planilha do Excel" in message


def test_a_zip_of_something_else_named_xlsx_is_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("fotos/ferias.txt", "não é planilha")
    assert "não é uma planilha do Excel" in refusal("lote.xlsx", out.getvalue())


def test_a_truncated_xlsx_is_refused_as_corrupt() -> None:
    content = xlsx([HOLDER])
    assert "corrompida" in refusal("lote.xlsx", content[: len(content) // 2])


def test_a_password_protected_xlsx_is_refused_saying_so() -> None:
    # Excel saves an encrypted workbook as an OLE container with an EncryptionInfo stream.
    ole = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + bytes(504)
        + "EncryptionInfo".encode("utf-16-le")
        + bytes(200)
    )
    assert "protegida por senha" in refusal("lote.xlsx", ole)


def test_an_old_xls_renamed_to_xlsx_is_refused_saying_so() -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600)
    assert "formato antigo do Excel (.xls)" in refusal("lote.xlsx", ole)


def test_missing_columns_are_named() -> None:
    header = [n for n in COLUMN_NAMES if n not in ("cpf", "uf")]
    message = refusal("lote.xlsx", xlsx([HOLDER], header=header))
    assert "faltam as colunas cpf, uf" in message


def test_unknown_columns_are_named() -> None:
    message = refusal("lote.xlsx", xlsx([HOLDER], header=[*COLUMN_NAMES, "salario"]))
    assert "colunas desconhecidas: salario" in message


def test_headers_match_ignoring_case_accents_and_spaces() -> None:
    header = [n.upper().replace("_", " ") for n in COLUMN_NAMES]
    header[header.index("NOME MAE")] = "Nome Mãe"
    typed = {shown: HOLDER.get(name) for shown, name in zip(header, COLUMN_NAMES, strict=True)}
    line = only_line(xlsx([typed], header=header))
    assert line.values["nome_mae"] == "ANA DA SILVA"


def test_an_empty_file_is_refused() -> None:
    assert "vazio" in refusal("lote.csv", b"")


def test_a_file_with_only_the_header_is_refused() -> None:
    assert "não tem linhas de movimentação" in refusal("lote.xlsx", xlsx([]))


def test_more_lines_than_the_limit_are_refused_saying_the_limit() -> None:
    lines = [{**EXCLUSION, "carteirinha": f"{n}"} for n in range(6)]
    message = refusal("lote.xlsx", xlsx(lines), max_lines=5)
    assert "o limite é 5 por arquivo" in message


def test_more_bytes_than_the_limit_are_refused_saying_the_limit() -> None:
    message = refusal("lote.csv", csv_file([HOLDER]), max_bytes=100)
    assert "o limite é 100 bytes" in message


def test_the_default_limits_are_100000_lines_and_20_mb() -> None:
    message = refusal("lote.csv", b"x" * (20 * 1024 * 1024 + 1))
    assert "o limite é 20 MB" in message


def test_a_formula_is_refused_naming_its_cell() -> None:
    def setup(ws: Any) -> None:
        ws["C2"] = '=CONCAT("MARIA ";"DA SILVA")'

    message = refusal("lote.xlsx", xlsx([HOLDER], setup=setup))
    assert "fórmulas (célula C2)" in message


def test_merged_cells_are_refused_naming_the_range() -> None:
    def setup(ws: Any) -> None:
        ws.merge_cells("L2:M2")

    assert "células mescladas (L2:M2)" in refusal("lote.xlsx", xlsx([HOLDER], setup=setup))


def test_a_value_outside_the_named_columns_is_refused() -> None:
    def setup(ws: Any) -> None:
        ws.cell(row=2, column=len(COLUMN_NAMES) + 2, value="sobrou")

    assert "não tem nome no cabeçalho" in refusal("lote.xlsx", xlsx([HOLDER], setup=setup))


# ---------------------------------------------------------------- line-level handling


@pytest.mark.parametrize(
    "text",
    ["31/12/1990", "1990-12-31", "31-12-1990", "31.12.1990", "1990-12-31 00:00:00", "31121990"],
)
def test_dates_as_text_are_converted(text: str) -> None:
    line = only_line(csv_file([{**HOLDER, "data_nascimento": text}]), "lote.csv")
    assert line.values["data_nascimento"] == date(1990, 12, 31)
    assert not line.problems


def test_dates_as_excel_serials_and_date_cells_are_converted() -> None:
    lines = [
        {**HOLDER, "data_nascimento": 33238},
        {**HOLDER, "cpf": "12345678909", "data_nascimento": datetime(1990, 12, 31)},
    ]
    parsed = parse_batch_file("lote.xlsx", xlsx(lines))
    assert [line.values["data_nascimento"] for line in parsed.lines] == [date(1990, 12, 31)] * 2
    assert (
        "data convertida do número do Excel (33238 = 31/12/1990)" in (parsed.lines[0].warnings[0])
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [("31/02/1990", "Data inválida"), ("31/12/90", "Ano com 2 dígitos"), ("ontem", "inválida")],
)
def test_an_impossible_date_is_a_problem_of_its_line(text: str, expected: str) -> None:
    line = only_line(xlsx([{**HOLDER, "data_nascimento": text}]))
    assert expected in line.problems["data_nascimento"]


def test_a_cpf_with_punctuation_is_cleaned() -> None:
    line = only_line(xlsx([{**HOLDER, "cpf": "529.982.247-25"}]))
    assert line.values["cpf"] == "52998224725"
    assert not line.problems and not line.warnings


@pytest.mark.parametrize("stored", [1234567890, 1234567890.0, "1234567890", "123456797"])
def test_a_cpf_that_lost_its_leading_zeros_is_completed_with_a_warning(stored: Any) -> None:
    line = only_line(xlsx([{**HOLDER, "cpf": stored}]))
    assert line.values["cpf"] in ("01234567890", "00123456797")
    assert line.warnings == ["cpf: CPF completado com zeros à esquerda"]
    assert not line.problems


def test_a_short_cpf_that_zeros_do_not_make_valid_is_refused() -> None:
    line = only_line(xlsx([{**HOLDER, "cpf": 1234567891}]))
    assert "CPF com 10 dígitos" in line.problems["cpf"]
    assert line.values["cpf"] is None


def test_a_cpf_with_wrong_check_digits_is_refused_with_the_rules_message() -> None:
    line = only_line(xlsx([{**HOLDER, "cpf": "52998224726"}]))
    assert line.problems["cpf"] == "CPF inválido: confira os 11 dígitos informados."


def test_a_cpf_in_scientific_notation_is_refused_saying_the_digits_were_lost() -> None:
    line = only_line(csv_file([{**HOLDER, "cpf": "5,29982E+10"}]), "lote.csv")
    assert "notação científica" in line.problems["cpf"]


def test_a_cep_and_a_card_that_lost_leading_zeros_are_completed() -> None:
    line = only_line(
        xlsx(
            [
                {**HOLDER, "cep": 1310100},
            ]
        )
    )
    assert line.values["cep"] == "01310100"
    card = only_line(xlsx([{**EXCLUSION, "carteirinha": int(EXAMPLE_CARD)}]))
    assert card.values["carteirinha"] == EXAMPLE_CARD
    assert card.warnings == ["carteirinha: carteirinha completada com zeros à esquerda"]


def test_spaces_around_values_are_trimmed_silently() -> None:
    line = only_line(xlsx([{**HOLDER, "nome": "  MARIA DA SILVA \u00a0", "uf": " SP "}]))
    assert line.values["nome"] == "MARIA DA SILVA"
    assert line.values["uf"] == "SP"
    assert line.raw["nome"] == "MARIA DA SILVA"
    assert not line.warnings and not line.problems


def test_a_duplicated_line_is_refused_naming_the_first_one() -> None:
    parsed = parse_batch_file("lote.xlsx", xlsx([EXCLUSION, HOLDER, EXCLUSION]))
    assert not parsed.lines[0].problems
    assert parsed.lines[2].problems == {LINE: "Linha duplicada da linha 2: apague uma das duas."}


def test_names_are_kept_as_typed_and_a_line_differing_only_in_case_is_a_duplicate() -> None:
    typed = {**HOLDER, "nome": "Maria da Silva", "nome_mae": "Ana  da Silva"}
    parsed = parse_batch_file(
        "lote.xlsx", xlsx([typed, {**typed, "nome": "MARIA DA SILVA", "nome_mae": "ana da silva"}])
    )
    assert (parsed.lines[0].values["nome"], parsed.lines[0].values["nome_mae"]) == (
        "Maria da Silva",
        "Ana  da Silva",  # inner spaces collapse when the line is applied
    )
    assert parsed.lines[1].problems == {LINE: "Linha duplicada da linha 2: apague uma das duas."}


def test_the_same_cpf_included_twice_is_refused_on_the_second_line() -> None:
    parsed = parse_batch_file("lote.xlsx", xlsx([HOLDER, {**HOLDER, "nome": "MARIA SILVA"}]))
    assert parsed.lines[1].problems["cpf"] == "CPF já incluído na linha 2 deste arquivo."


def test_an_unknown_choice_is_refused_with_the_allowed_values() -> None:
    line = only_line(xlsx([{**HOLDER, "sexo": "X", "tipo_movimento": "INCLUIR"}]))
    assert line.problems["sexo"] == "Valor inválido (X): use um destes: M, F."
    assert (
        "INCLUSAO, EXCLUSAO, ALTERACAO, REATIVACAO, TRANSFERENCIA"
        in (line.problems["tipo_movimento"])
    )
    assert line.kind is None


def test_a_plan_outside_the_companys_list_is_refused_when_the_list_is_given() -> None:
    line = only_line(xlsx([{**HOLDER, "codigo_plano": "ODT-XYZ"}]), plan_codes=["ODT-ESS"])
    assert line.problems["codigo_plano"] == "Valor inválido (ODT-XYZ): use um destes: ODT-ESS."


@pytest.mark.parametrize(
    ("column", "typed", "code"),
    [
        ("tipo_movimento", "Inclusão", "INCLUSAO"),
        ("parentesco", "1 - Titular", "1"),
        ("parentesco", 1, "1"),
        ("estado_civil", "casada", "Casado(a)"),
        ("estado_civil", "UNIAO ESTAVEL", "União estável"),
        ("uf", "sp", "SP"),
        ("codigo_plano", "ODT-ESS - Sorriso Essencial", "ODT-ESS"),
    ],
)
def test_choices_accept_codes_labels_and_dropdown_text(column: str, typed: Any, code: str) -> None:
    line = only_line(xlsx([{**HOLDER, column: typed}]), plan_codes=["ODT-ESS"])
    assert line.values[column] == code
    assert not line.problems


@pytest.mark.parametrize(
    ("line", "column", "says"),
    [
        ({**EXCLUSION, "motivo_exclusao": None}, "motivo_exclusao", "obrigatório em EXCLUSAO"),
        ({**EXCLUSION, "carteirinha": None}, "carteirinha", "obrigatório em EXCLUSAO"),
        ({**HOLDER, "data_admissao": None}, "data_admissao", "INCLUSAO de titular"),
        ({**HOLDER, "nome": None}, "nome", "obrigatório em INCLUSAO"),
        (
            {"tipo_movimento": "TRANSFERENCIA", "carteirinha": EXAMPLE_CARD},
            "codigo_empresa_destino",
            "obrigatório em TRANSFERENCIA",
        ),
        ({"tipo_movimento": None, "carteirinha": EXAMPLE_CARD}, "tipo_movimento", "Preencha"),
    ],
)
def test_a_column_required_by_the_movement_type_is_named(
    line: dict[str, Any], column: str, says: str
) -> None:
    parsed = only_line(xlsx([line]))
    assert says in parsed.problems[column]
    assert column in parsed.problems[column]


def test_a_dependent_needs_its_holders_card_or_cpf() -> None:
    dependent = {**HOLDER, "cpf": "12345678909", "parentesco": "4", "codigo_plano": None}
    line = only_line(xlsx([dependent]))
    assert "carteirinha do titular" in line.problems["carteirinha_titular"]
    assert "cep" not in line.problems  # a dependent takes the holder's address


def test_a_dependent_before_its_holder_in_the_file_is_refused() -> None:
    dependent = {
        "tipo_movimento": "INCLUSAO",
        "nome": "JOAO DA SILVA",
        "sexo": "M",
        "data_nascimento": "10/05/2015",
        "nome_mae": "MARIA DA SILVA",
        "parentesco": "4",
        "cpf_titular": HOLDER["cpf"],
    }
    parsed = parse_batch_file("lote.xlsx", xlsx([dependent, HOLDER]))
    assert "incluído na linha 3, depois do dependente" in parsed.lines[0].problems["cpf_titular"]
    ordered = parse_batch_file("lote.xlsx", xlsx([HOLDER, dependent]))
    assert not any(line.problems for line in ordered.lines)


def test_an_update_needs_at_least_one_data_column() -> None:
    line = only_line(xlsx([{"tipo_movimento": "ALTERACAO", "carteirinha": EXAMPLE_CARD}]))
    assert line.problems == {LINE: "Alteração sem dados: preencha as colunas que mudam."}
    update = only_line(
        xlsx([{"tipo_movimento": "ALTERACAO", "carteirinha": EXAMPLE_CARD, "email": "a@b.com"}])
    )
    assert update.changes() == {"email": "a@b.com"}


def test_a_column_that_the_movement_does_not_use_is_ignored_with_a_warning() -> None:
    line = only_line(xlsx([{**EXCLUSION, "nome": "MARIA DA SILVA"}]))
    assert line.values["nome"] is None
    assert line.warnings == ["nome: ignorada em EXCLUSAO"]


def test_a_latin1_csv_with_semicolons_is_read() -> None:
    content = csv_file([{**HOLDER, "nome": "JOSÉ DA CONCEIÇÃO"}], encoding="cp1252")
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")
    line = only_line(content, "lote.csv")
    assert line.values["nome"] == "JOSÉ DA CONCEIÇÃO"
    assert line.kind is MovementKind.INCLUSION and not line.problems


def test_a_utf8_csv_with_bom_and_commas_is_read() -> None:
    content = b"\xef\xbb\xbf" + csv_file([{**HOLDER, "nome": "JOSÉ DA CONCEIÇÃO"}], delimiter=",")
    line = only_line(content, "LOTE.CSV")
    assert line.values["nome"] == "JOSÉ DA CONCEIÇÃO"
    assert line.values["cep"] == "01310100" and not line.problems


def test_line_numbers_are_spreadsheet_rows_and_blank_rows_are_skipped() -> None:
    parsed = parse_batch_file("lote.xlsx", xlsx([HOLDER, {}, EXCLUSION]))
    assert [line.line_number for line in parsed.lines] == [2, 4]


def test_a_header_below_blank_rows_and_columns_keeps_spreadsheet_row_numbers() -> None:
    def shift(ws: Any) -> None:
        ws.insert_rows(1, 2)
        ws.insert_cols(1)

    parsed = parse_batch_file("lote.xlsx", xlsx([EXCLUSION], setup=shift))
    assert [line.line_number for line in parsed.lines] == [4]
    assert parsed.lines[0].values["carteirinha"] == EXAMPLE_CARD


def test_the_sample_csv_fixture_parses_without_problems() -> None:
    content = (Path(__file__).parents[1] / "fixtures" / "lote_exemplo.csv").read_bytes()
    parsed = parse_batch_file("lote_exemplo.csv", content, plan_codes=["ODT-ESS"])
    assert [line.problems for line in parsed.lines] == [{}, {}, {}]


def test_the_parsed_line_gives_the_person_for_the_rules() -> None:
    person = only_line(xlsx([HOLDER])).person()
    assert (person.name, person.cpf, person.birth_date, person.state) == (
        "MARIA DA SILVA",
        "52998224725",
        date(1985, 3, 15),
        "SP",
    )


def test_the_content_hash_identifies_the_file() -> None:
    content = xlsx([HOLDER])
    first = parse_batch_file("a.xlsx", content)
    assert first.content_hash == parse_batch_file("b.xlsx", content).content_hash
    assert len(first.content_hash) == 64 and first.file_name == "a.xlsx"


# ---------------------------------------------------------------- template and layout


def _template_filled_with_its_examples() -> bytes:
    wb = load_workbook(io.BytesIO(template_xlsx(PLANS, "10004")))
    for row in wb["Exemplos"].iter_rows(min_row=2):
        for cell in row:
            target = wb["Movimentacoes"].cell(row=cell.row, column=cell.column)
            target.value = cell.value
            target.number_format = cell.number_format
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_the_template_to_fill_has_no_line_so_a_forgotten_example_is_never_applied() -> None:
    with pytest.raises(BatchFileError, match="não tem linhas de movimentação"):
        parse_batch_file("modelo.xlsx", template_xlsx(PLANS, "10004"))


def test_the_template_round_trips_through_the_parser() -> None:
    parsed = parse_batch_file(
        "modelo.xlsx", _template_filled_with_its_examples(), plan_codes=[c for c, _ in PLANS]
    )
    assert [line.kind for line in parsed.lines] == [
        MovementKind.INCLUSION,
        MovementKind.INCLUSION,
        MovementKind.EXCLUSION,
    ]
    assert [line.problems for line in parsed.lines] == [{}, {}, {}]
    assert parsed.lines[1].values["cpf_titular"] == parsed.lines[0].values["cpf"]
    assert parsed.lines[0].values["codigo_plano"] == "ODT-ESS"


def test_layout_rows_template_headers_and_parser_columns_agree() -> None:
    content = _template_filled_with_its_examples()
    ws = load_workbook(io.BytesIO(content))["Movimentacoes"]
    template_headers = [c.value for c in ws[1]]
    layout_names = [row["Coluna"] for row in layout_rows()]
    parser_columns = parse_batch_file("modelo.xlsx", content).columns
    assert template_headers == layout_names == parser_columns == list(COLUMN_NAMES)


def test_the_template_has_dropdowns_hidden_lists_text_columns_and_a_guide() -> None:
    wb = load_workbook(io.BytesIO(template_xlsx(PLANS, "10004")))
    assert wb.sheetnames == ["Movimentacoes", "Exemplos", "Instrucoes", "Listas"]
    assert wb["Listas"].sheet_state == "hidden"
    ws = wb["Movimentacoes"]
    assert ws.freeze_panes == "A2" and ws["A1"].font.bold
    validated = {str(dv.sqref).split(":")[0] for dv in ws.data_validations.dataValidation}
    letters = {
        c.name: chr(ord("A") + i) if i < 26 else "A" + chr(ord("A") + i - 26)
        for i, c in enumerate(COLUMNS)
    }
    for column in (
        "tipo_movimento",
        "parentesco",
        "sexo",
        "codigo_plano",
        "estado_civil",
        "motivo_exclusao",
    ):
        assert f"{letters[column]}2" in validated, column
    assert ws.column_dimensions[letters["cpf"]].number_format == "@"
    assert ws.column_dimensions[letters["data_nascimento"]].number_format == "dd/mm/yyyy"
    lists = [c.value for c in wb["Listas"]["A"] if c.value]
    assert lists[0] == "tipo_movimento" and "TRANSFERENCIA" in lists
    guide = " ".join(str(c.value) for row in wb["Instrucoes"].iter_rows() for c in row if c.value)
    assert "Uma linha = uma movimentação" in guide and "10004" in guide
    assert "ODT-PLUS" in guide and "100.000 linhas" in guide


def test_the_layout_downloads_as_csv_and_xlsx() -> None:
    text = layout_csv().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][:2] == ["Coluna", "Significado"]
    assert [r[0] for r in rows[1:]] == list(COLUMN_NAMES)
    ws = load_workbook(io.BytesIO(layout_xlsx()))["Layout"]
    assert [c.value for c in ws["A"]][1:] == list(COLUMN_NAMES)


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+5511", "'+5511"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("MARIA", "MARIA"),
        ("", ""),
        ("a=b", "a=b"),
    ],
)
def test_neutralise_disarms_formula_triggers(value: str, safe: str) -> None:
    assert neutralise(value) == safe


def test_refusal_fields_map_back_to_columns() -> None:
    assert column_for_field("birth_date") == "data_nascimento"
    assert column_for_field("holder") == "carteirinha_titular"
    assert column_for_field("plan") == "codigo_plano"
    assert column_for_field("card_number") == "carteirinha"
    assert column_for_field("cpf") == "cpf" and column_for_field(None) is None


# ---------------------------------------------------------------- result file


def _parsed_for_result() -> ParsedBatch:
    def as_text(ws: Any) -> None:
        ws["C3"].data_type = "s"  # text that looks like a formula, not a formula

    lines = [
        HOLDER,
        {**HOLDER, "cpf": "12345678909", "nome": '=HYPERLINK("x")', "sexo": "X"},
        EXCLUSION,
    ]
    return parse_batch_file("lote.xlsx", xlsx(lines, setup=as_text))


def test_the_result_xlsx_has_a_status_column_and_highlights_the_refused_cells() -> None:
    parsed = _parsed_for_result()
    statuses = [
        (2, "aceita", "Carteirinha 0001 0000 0000 0027"),
        (3, "recusada", parsed.lines[1].problem_message()),
        (4, "recusada", "Carteirinha não encontrada nesta empresa.", "card_number"),
    ]
    ws = load_workbook(io.BytesIO(result_xlsx(parsed, statuses)))["Resultado"]
    header = [c.value for c in ws[1]]
    assert header[-2:] == ["status", "mensagem"]
    col = {name: i + 1 for i, name in enumerate(header)}
    red = "00F4B6B6"
    assert ws.cell(2, col["status"]).value == "aceita"
    assert ws.cell(2, col["cpf"]).fill.fgColor.rgb != red
    assert ws.cell(3, col["status"]).value == "recusada"
    assert ws.cell(3, col["sexo"]).fill.fgColor.rgb == red
    assert ws.cell(3, col["cpf"]).fill.fgColor.rgb != red
    assert ws.cell(4, col["carteirinha"]).fill.fgColor.rgb == red
    assert ws.cell(4, col["carteirinha"]).value == EXAMPLE_CARD  # kept as text, with zeros
    name = ws.cell(3, col["nome"])
    assert name.value == '\'=HYPERLINK("x")' and name.data_type == "s"


def test_a_line_refused_by_parsing_gets_its_problems_when_no_status_is_given() -> None:
    parsed = _parsed_for_result()
    ws = load_workbook(io.BytesIO(result_xlsx(parsed, [])))["Resultado"]
    assert ws.cell(3, len(COLUMN_NAMES) + 1).value == "recusada"
    assert "sexo: Valor inválido (X)" in ws.cell(3, len(COLUMN_NAMES) + 2).value


def test_the_result_csv_is_semicolon_utf8_with_bom_and_neutralised() -> None:
    parsed = _parsed_for_result()
    content = result_csv(parsed, [(2, "aceita", "ok"), (4, "recusada", "=erro")])
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][-2:] == ["status", "mensagem"]
    nome = rows[0].index("nome")
    assert rows[2][nome] == '\'=HYPERLINK("x")'
    assert rows[3][-2:] == ["recusada", "'=erro"]
    assert rows[1][rows[0].index("cpf")] == "52998224725"


# ---------------------------------------------------------------- performance


def test_a_100000_line_file_parses_in_a_few_seconds() -> None:
    template = [HOLDER.get(name, "") for name in COLUMN_NAMES]
    cpf_at = COLUMN_NAMES.index("cpf")
    rows = [list(COLUMN_NAMES)]
    for n in range(1, 100_001):
        row = list(template)
        base = f"{n + 100_000_000:09d}"
        row[cpf_at] = base + cpf_check_digits(base)
        rows.append(row)
    content = fast_xlsx(rows)
    started, cpu = time.perf_counter(), time.process_time()
    parsed = parse_batch_file("grande.xlsx", content)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        f"\n100,000 lines, {len(content) / 1e6:.1f} MB xlsx: parsed in {elapsed:.2f} s "
        f"({cpu:.2f} s CPU)"
    )
    assert len(parsed.lines) == 100_000
    assert not any(line.problems for line in parsed.lines)
