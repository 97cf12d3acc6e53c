"""Batch movement files: the template, the parser and the result file (no database).

The parser refuses a whole file for what makes it unreadable or not ours (format,
password, layout, size, formulas, merged cells) with `BatchFileError`, and otherwise
gives every line with its cleaned values, the problems found by parsing alone and the
fixes it applied. Applying the lines (the movement rules) is someone else's job.
"""

from __future__ import annotations

import csv
import hashlib
import io
import lzma
import posixpath
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from xml.etree import ElementTree

import python_calamine
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from services.batch.layout import (
    BY_NAME,
    CODE_OF_KIND,
    COLUMN_NAMES,
    COLUMNS,
    HEADER_FILL,
    HEADER_FONT,
    HOLDER_CODE,
    HOLDER_LINK_COLUMNS,
    MAX_BYTES,
    MAX_LINES,
    MOVEMENT_CODES,
    UPDATE_COLUMNS,
    Column,
    column_for_field,
    layout_rows,
)
from services.exports import Sheet, Styled, csv_bytes, write_text, xlsx_bytes
from services.rules.card_numbers import CARD_LENGTH, is_valid_card_number
from services.rules.documents import only_digits, parse_cpf
from services.rules.errors import DomainError, problems_joined
from services.rules.formats import format_date, format_int, format_size
from services.rules.movements import (
    EXCLUSION_REASONS,
    MOVEMENT_LABELS,
    UPDATABLE_FIELDS,
    MovementKind,
    PersonData,
)

LINE = "_linha"  # key of `problems` for a problem of the whole line, not of one column
DATA_SHEET = "Movimentacoes"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_STREAM = "EncryptionInfo".encode("utf-16-le")
_ZIP_MAGIC = b"PK\x03\x04"
# A sheet's XML compresses ~10x; far more than this is a zip bomb, not a movement file.
_MAX_UNPACKED_RATIO = 25
_EXCEL_EPOCH = date(1899, 12, 30)
_EXCEL_EPOCH_1904 = date(1904, 1, 1)
_MAX_SERIAL = 2_958_465  # 31/12/9999
_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


class BatchFileError(DomainError):
    """The whole file is refused; the message says what to fix."""


Value = str | date | bool | None


@dataclass(frozen=True)
class BatchLineData:
    """One line of the file (one movement), as parsed."""

    line_number: int  # row number in the spreadsheet (the header is row 1)
    kind: MovementKind | None  # None when tipo_movimento is missing or unknown
    values: dict[str, Value]  # column -> cleaned value (None: empty, refused or ignored)
    raw: dict[str, str]  # column -> text as in the file
    problems: dict[str, str] = field(default_factory=dict)  # column (or LINE) -> message
    warnings: list[str] = field(default_factory=list)  # fixes applied

    @property
    def relationship_code(self) -> int | None:
        code = self.values.get("parentesco")
        return int(code) if isinstance(code, str) else None

    def by_field(self) -> dict[str, Value]:
        """The filled-in values keyed by the field they map to (PersonData, request)."""
        return {BY_NAME[c].field: v for c, v in self.values.items() if v is not None}

    def person(self) -> PersonData:
        """The person's register as typed in the line (inclusion)."""
        data = self.by_field()
        kwargs: dict[str, Any] = {f: data[f] for f in PersonData.__dataclass_fields__ if f in data}
        return PersonData(**kwargs)

    def changes(self) -> dict[str, Any]:
        """The person fields filled in (update, reactivation): only those change."""
        data = self.by_field()
        return {f: data[f] for f in UPDATABLE_FIELDS if f in data}

    def problem_message(self) -> str:
        return problems_joined(m if c == LINE else f"{c}: {m}" for c, m in self.problems.items())


@dataclass(frozen=True)
class ParsedBatch:
    lines: list[BatchLineData]
    columns: list[str]  # header, in the file's order
    content_hash: str  # sha256 of the bytes: the same file sent twice is recognised
    file_name: str


# ---------------------------------------------------------------- template

_TEMPLATE_INFO = [
    "Uma linha = uma movimentação de um beneficiário: INCLUSAO, EXCLUSAO, ALTERACAO, "
    "REATIVACAO ou TRANSFERENCIA (coluna tipo_movimento).",
    "Preencha a aba Movimentacoes a partir da linha 2 (a aba Exemplos mostra três linhas "
    "preenchidas e não é lida). Não mude os nomes das colunas nem apague colunas (a ordem "
    "pode mudar).",
    "Não use fórmulas nem células mescladas: o arquivo é recusado.",
    "Datas no formato dd/mm/aaaa. CPF, CEP, telefone e carteirinhas só com números: as "
    "colunas já estão como Texto para não perder os zeros à esquerda.",
    "Dependente de titular incluído no mesmo arquivo: coloque a linha do titular antes e "
    "informe o CPF dele em cpf_titular. Dependente de titular já cadastrado: informe a "
    "carteirinha dele em carteirinha_titular (ou o CPF em cpf_titular).",
    "Dependente sem endereço usa o endereço do titular. O plano do dependente é o do titular.",
    "ALTERACAO: informe a carteirinha e só as colunas que mudam. REATIVACAO: a carteirinha; "
    "as colunas preenchidas corrigem o cadastro.",
    "EXCLUSAO: carteirinha e motivo; não pode ser retroativa. Conforme o contrato, excluir o "
    "titular exclui também os dependentes.",
    "TRANSFERENCIA: carteirinha do titular e código da empresa de destino (mesmo grupo "
    "econômico); os dependentes vão junto.",
    "data_vigencia vazia = hoje. Para datas passadas use o cadastro retroativo.",
    f"Limites: até {format_int(MAX_LINES)} linhas e {format_size(MAX_BYTES)} por arquivo. "
    "Formatos aceitos: .xlsx ou .csv (UTF-8 ou Latin-1, separado por ; ou ,).",
    "Depois do envio, cada linha recebe um status; baixe o arquivo de resultado para ver o "
    "que corrigir nas linhas recusadas.",
]
_DROPDOWN_STOP = {"tipo_movimento", "sexo", "estado_civil", "uf", "estudante"}


def _example_lines(plan_codes: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    plan = (
        f"{plan_codes[0][0]} - {plan_codes[0][1]}"
        if plan_codes
        else BY_NAME["codigo_plano"].example
    )
    holder: dict[str, Any] = {c.name: c.example for c in COLUMNS if c.field in UPDATABLE_FIELDS}
    holder.update(
        tipo_movimento="INCLUSAO",
        data_nascimento=date(1985, 3, 15),
        data_admissao=date(2024, 1, 2),
        parentesco="1 - Titular",
        codigo_plano=plan,
        cns="",
    )
    dependent = {
        "tipo_movimento": "INCLUSAO",
        "cpf": "12345678909",
        "nome": "JOAO DA SILVA",
        "data_nascimento": date(2015, 5, 10),
        "sexo": "M",
        "nome_mae": "MARIA DA SILVA",
        "estudante": "N",
        "parentesco": "4 - Filho(a)",
        "cpf_titular": holder["cpf"],
    }
    exclusion = {
        "tipo_movimento": "EXCLUSAO",
        "carteirinha": BY_NAME["carteirinha"].example,
        "motivo_exclusao": f"demissao - {EXCLUSION_REASONS['demissao']}",
    }
    return [holder, dependent, exclusion]


def template_xlsx(
    plan_codes: list[tuple[str, str]],
    company_code: str,
    cost_centres: Sequence[tuple[str, str]] = (),
) -> bytes:
    """The batch template: sheet Movimentacoes to fill (header, drop-down lists, text and
    date formats), Exemplos (3 example lines), Instrucoes (the guide and the layout) and
    a hidden Listas sheet. ``cost_centres`` (code, name): the company's active ones, the
    drop-down list of centro_custo (none: the column is free text)."""
    wb = Workbook()
    ws = wb.active
    ws.title = DATA_SHEET
    guide = wb.create_sheet("Instrucoes")
    lists = wb.create_sheet("Listas")
    lists.sheet_state = "hidden"
    last_row = MAX_LINES + 1
    list_count = 0

    for i, col in enumerate(COLUMNS, start=1):
        letter = get_column_letter(i)
        dim = ws.column_dimensions[letter]
        dim.number_format = "dd/mm/yyyy" if col.kind == "date" else "@"
        dim.width = max(12, min(40, len(col.name) + 4))
        cell = ws.cell(row=1, column=i)
        write_text(cell, col.name)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        options = _dropdown_options(col, plan_codes)
        if col.name == "centro_custo" and cost_centres:
            options = [code for code, _name in cost_centres]
        if options is None:
            continue
        if col.kind == "bool" or col.name == "sexo":
            formula = '"' + ",".join(options) + '"'
        else:
            list_count += 1
            list_col = get_column_letter(list_count)
            write_text(lists[f"{list_col}1"], col.name)
            for r, option in enumerate(options, start=2):
                write_text(lists[f"{list_col}{r}"], option)
            formula = f"Listas!${list_col}$2:${list_col}${len(options) + 1}"
        stop = col.name in _DROPDOWN_STOP
        dv = DataValidation(
            type="list",
            formula1=formula,
            allow_blank=True,
            showErrorMessage=True,
            errorStyle="stop" if stop else "warning",
            errorTitle=col.name,
            error=f"Escolha um valor da lista ({col.format}).",
            showInputMessage=True,
            promptTitle=col.name,
            prompt=col.label[:255],
        )
        dv.add(f"{letter}2:{letter}{last_row}")
        ws.add_data_validation(dv)
    ws.freeze_panes = "A2"

    # Examples live on a sheet of their own: a forgotten example line must never be
    # applied (the example exclusion would exclude someone real).
    examples = wb.create_sheet("Exemplos", 1)
    for i, col in enumerate(COLUMNS, start=1):
        cell = examples.cell(row=1, column=i)
        write_text(cell, col.name)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        examples.column_dimensions[get_column_letter(i)].width = max(12, min(40, len(col.name) + 4))
    for r, example in enumerate(_example_lines(plan_codes), start=2):
        for i, col in enumerate(COLUMNS, start=1):
            value = example.get(col.name)
            if value in (None, ""):
                continue
            cell = examples.cell(row=r, column=i)
            if isinstance(value, date):
                cell.value = value
                cell.number_format = "dd/mm/yyyy"
            else:
                write_text(cell, value)
                cell.number_format = "@"

    _write_guide(guide, plan_codes, company_code, cost_centres)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _dropdown_options(col: Column, plan_codes: Sequence[tuple[str, str]]) -> list[str] | None:
    if col.name == "codigo_plano":
        return [f"{code} - {name}" for code, name in plan_codes] or None
    if col.choices is None:
        return None
    if col.name in ("parentesco", "motivo_exclusao"):
        return [f"{code} - {label}" for code, label in col.choices]
    return [code for code, _ in col.choices]


def _write_guide(
    ws: Any,
    plan_codes: Sequence[tuple[str, str]],
    company_code: str,
    cost_centres: Sequence[tuple[str, str]] = (),
) -> None:
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    rows: list[tuple[list[str], bool]] = [
        ([f"Movimentação cadastral em lote: modelo da empresa {company_code}"], True),
        ([], False),
        (["Como preencher"], True),
    ]
    rows += [([f"{n}. {text}"], False) for n, text in enumerate(_TEMPLATE_INFO, start=1)]
    rows += [([], False), (["Colunas obrigatórias por movimentação"], True)]
    for code, kind in MOVEMENT_CODES.items():
        required = [c.name for c in COLUMNS if kind in c.required_for]
        extra = ""
        if kind is MovementKind.INCLUSION:
            holder = [c.name for c in COLUMNS if c.required_for_holder]
            extra = (
                f"; titular (parentesco 1) também: {', '.join(holder)}; dependente também: "
                f"{' ou '.join(HOLDER_LINK_COLUMNS)}"
            )
        rows.append(([f"{code} ({MOVEMENT_LABELS[kind]}): {', '.join(required)}{extra}"], False))
    if plan_codes:
        rows += [([], False), (["Planos contratados (codigo_plano)"], True)]
        rows += [([code, name], False) for code, name in plan_codes]
    if cost_centres:
        rows += [([], False), (["Centros de custo do titular (centro_custo)"], True)]
        rows += [([code, name], False) for code, name in cost_centres]
    rows += [([], False), (["Layout do arquivo"], True)]
    layout = layout_rows()
    rows.append((list(layout[0].keys()), True))
    rows += [([str(v) for v in row.values()], False) for row in layout]
    for r, (values, is_bold) in enumerate(rows, start=1):
        for c, value in enumerate(values, start=1):
            cell = ws.cell(row=r, column=c)
            write_text(cell, value)
            cell.alignment = wrap if len(values) > 1 else Alignment(vertical="top")
            if is_bold:
                cell.font = bold
    for letter, width in zip("ABCDEF", (24, 48, 40, 36, 28, 14), strict=True):
        ws.column_dimensions[letter].width = width


# ---------------------------------------------------------------- reading the file


def parse_batch_file(
    name: str,
    content: bytes,
    *,
    max_lines: int = MAX_LINES,
    max_bytes: int = MAX_BYTES,
    plan_codes: Collection[str] | None = None,
) -> ParsedBatch:
    """Read a batch file (.xlsx or .csv) into lines; refuse the whole file with
    `BatchFileError` when it cannot be read as the layout says.

    ``plan_codes``, when given, are the company's plan codes: others are refused per line.
    """
    if len(content) > max_bytes:
        raise BatchFileError(
            f"O arquivo tem {format_size(len(content))}; o limite é {format_size(max_bytes)}. "
            "Divida as movimentações em arquivos menores."
        )
    if not content:
        raise BatchFileError("O arquivo está vazio: preencha as movimentações a partir da linha 2.")
    extension = posixpath.splitext(name.lower().strip())[1]
    date1904 = False
    if extension == ".xlsx":
        rows, date1904 = read_xlsx_rows(content, max_bytes)
    elif extension == ".csv":
        rows = read_csv_rows(content)
    elif extension in (".xls", ".xlsm", ".xlsb", ".ods"):
        raise BatchFileError(
            f"Formato {extension} não é aceito: no Excel, use Arquivo > Salvar como > "
            "Pasta de Trabalho do Excel (.xlsx), ou CSV."
        )
    else:
        shown = extension or "sem extensão"
        raise BatchFileError(
            f"Formato de arquivo não aceito ({shown}): envie o modelo preenchido em .xlsx "
            "ou um arquivo .csv."
        )
    header_at, header = _header(rows)
    parser = _LineParser(_check_header(header), date1904=date1904, plan_codes=plan_codes)
    lines: list[BatchLineData] = []
    width = len(header)
    unnamed = [i for i, text in enumerate(header) if not _norm_header(text)]
    for index in range(header_at + 1, len(rows)):
        row = rows[index]
        if not any(_filled(v) for v in row):
            continue
        extra = next(
            (i for i in [*unnamed, *range(width, len(row))] if i < len(row) and _filled(row[i])),
            None,
        )
        if extra is not None:
            raise BatchFileError(
                f"A linha {index + 1} tem valor na coluna {get_column_letter(extra + 1)}, que "
                "não tem nome no cabeçalho: apague o valor ou use o cabeçalho do modelo."
            )
        if len(lines) >= max_lines:
            raise BatchFileError(
                f"O arquivo tem mais de {format_int(max_lines)} linhas de movimentação; o limite "
                f"é {format_int(max_lines)} por arquivo. Divida em arquivos menores."
            )
        lines.append(parser.line(index + 1, row))
    if not lines:
        raise BatchFileError(
            "O arquivo não tem linhas de movimentação: preencha a partir da linha seguinte ao "
            "cabeçalho."
        )
    _cross_line_checks(lines)
    return ParsedBatch(
        lines=lines,
        columns=[key for key in map(_norm_header, header) if key],
        content_hash=hashlib.sha256(content).hexdigest(),
        file_name=name,
    )


def _filled(v: Any) -> bool:
    return v is not None and v != "" and not (isinstance(v, str) and not v.strip())


def _norm(text: str) -> str:
    """Case-, accent- and space-insensitive key."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.casefold().split())


def _norm_header(value: Any) -> str:
    return re.sub(r"[\s\-]+", "_", _norm(_cell_text(value)).strip("* "))


def _header(rows: list[list[Any]]) -> tuple[int, list[str]]:
    for index, row in enumerate(rows):
        if any(_filled(v) for v in row):
            cells = [_cell_text(v) for v in row]
            while cells and not cells[-1]:
                cells.pop()
            return index, cells
    raise BatchFileError("O arquivo está vazio: use o modelo, com o cabeçalho na linha 1.")


def _check_header(header: list[str]) -> dict[str, int]:
    positions: dict[str, int] = {}
    unknown: list[str] = []
    for i, text in enumerate(header):
        key = _norm_header(text)
        if not key:
            continue  # a column without a name may only be empty (checked line by line)
        if key in positions:
            raise BatchFileError(f"A coluna {key} aparece duas vezes no cabeçalho: deixe uma só.")
        if key not in BY_NAME:
            unknown.append(text)
        positions[key] = i
    missing = [c.name for c in COLUMNS if c.name not in positions and not c.optional]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"faltam as colunas {', '.join(missing)}")
        if unknown:
            parts.append(f"colunas desconhecidas: {', '.join(unknown)}")
        raise BatchFileError(
            "O cabeçalho não segue o layout: "
            + "; ".join(parts)
            + ". Use o cabeçalho do modelo (a ordem das colunas pode mudar)."
        )
    return positions


def read_csv_rows(content: bytes) -> list[list[Any]]:
    """A .csv's rows as the batch reads them (encoding and separator detected; an Excel
    file under a .csv name refused): also the roster reconciliation's reader."""
    if content.startswith((_ZIP_MAGIC, _OLE_MAGIC)):
        raise BatchFileError(
            "O arquivo .csv é na verdade uma planilha do Excel: envie com a extensão .xlsx ou "
            "salve como CSV (separado por ponto e vírgula)."
        )
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = content.decode("utf-16")
        except UnicodeDecodeError:
            raise BatchFileError(
                "O CSV diz ser UTF-16 mas está truncado ou tem caracteres inválidos: salve de "
                "novo como CSV UTF-8."
            ) from None
    elif content.startswith(b"\xef\xbb\xbf"):
        try:
            text = content[3:].decode("utf-8")
        except UnicodeDecodeError:
            raise BatchFileError(
                "O CSV diz ser UTF-8 mas tem caracteres inválidos: salve de novo como CSV UTF-8."
            ) from None
    else:
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            try:
                text = content.decode("cp1252")
            except UnicodeDecodeError:
                text = content.decode("latin-1")
    if "\x00" in text:
        raise BatchFileError("O arquivo não é um CSV de texto: salve como CSV ou envie .xlsx.")
    first = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first.count)
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False))
    except csv.Error as exc:
        raise BatchFileError(
            f"CSV malformado ({exc}): confira as aspas e os separadores."
        ) from None


def read_xlsx_rows(content: bytes, max_bytes: int) -> tuple[list[list[Any]], bool]:
    """An .xlsx's first sheet as rows, and whether it counts dates from 1904 (protected,
    encrypted or oversized workbooks refused): also the roster reconciliation's reader."""
    if content.startswith(_OLE_MAGIC):
        if _ENCRYPTED_STREAM in content:
            raise BatchFileError(
                "A planilha está protegida por senha: remova a senha (Arquivo > Informações "
                "> Proteger pasta de trabalho) e envie de novo."
            )
        raise BatchFileError(
            "O arquivo é do formato antigo do Excel (.xls) com extensão .xlsx: abra no Excel "
            "e use Salvar como > Pasta de Trabalho do Excel (.xlsx)."
        )
    not_excel = BatchFileError(
        "O arquivo não é uma planilha do Excel (.xlsx): envie o modelo preenchido, salvo "
        "como .xlsx, ou um .csv."
    )
    if not content.startswith(_ZIP_MAGIC):
        raise not_excel
    corrupt = BatchFileError(
        "A planilha está corrompida e não pode ser lida: abra no Excel, salve de novo como "
        ".xlsx e envie outra vez."
    )
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as zf:
            # Before unpacking any part (a zip bomb's bulk can be in _rels/.rels as well).
            unpacked = sum(info.file_size for info in zf.infolist())
            if unpacked > _MAX_UNPACKED_RATIO * max_bytes:
                raise BatchFileError(
                    "A planilha descompactada passa de "
                    f"{format_size(_MAX_UNPACKED_RATIO * max_bytes)}: "
                    "divida as movimentações em arquivos menores."
                )
            workbook_path = _office_document(zf)
            if workbook_path is None or not workbook_path.endswith(".xml"):
                raise not_excel
            sheet_name, sheet_path, date1904 = _data_sheet(zf, workbook_path)
            _scan_sheet(zf, sheet_path)
    except (
        zipfile.BadZipFile,
        zlib.error,
        lzma.LZMAError,
        OSError,  # bz2: "Invalid data stream"
        EOFError,
        KeyError,
        NotImplementedError,  # zip version or compression method zipfile does not know
        RuntimeError,  # a zip-encrypted part (Excel's own password is the OLE case above)
        ElementTree.ParseError,
    ):
        raise corrupt from None
    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(content))
        rows = book.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
    except python_calamine.PasswordError:
        raise BatchFileError(
            "A planilha está protegida por senha: remova a senha e envie de novo."
        ) from None
    except (python_calamine.CalamineError, ValueError, OSError):
        raise corrupt from None
    return rows, date1904


def _office_document(zf: zipfile.ZipFile) -> str | None:
    """The workbook part named by the package relationships, if the zip is an OOXML file."""
    if "_rels/.rels" not in zf.namelist():
        return None
    root = ElementTree.fromstring(zf.read("_rels/.rels"))
    for rel in root.iter(f"{_NS_PKG_REL}Relationship"):
        if rel.get("Type", "").endswith("/officeDocument"):
            target = rel.get("Target", "").lstrip("/")
            return target if target.startswith("xl/") and target in zf.namelist() else None
    return None


def _data_sheet(zf: zipfile.ZipFile, workbook_path: str) -> tuple[str, str, bool]:
    """(name, part path, 1904 date system) of the sheet with the movements: the one called
    Movimentacoes, else the first visible one."""
    book = ElementTree.fromstring(zf.read(workbook_path))
    props = book.find(f"{_NS_MAIN}workbookPr")
    date1904 = props is not None and props.get("date1904", "0").lower() in ("1", "true")
    sheets = [
        (s.get("name", ""), s.get(f"{_NS_REL}id", ""), s.get("state", "visible"))
        for s in book.iter(f"{_NS_MAIN}sheet")
    ]
    visible = [s for s in sheets if s[2] == "visible"]
    if not visible:
        raise BatchFileError("A planilha não tem abas visíveis com as movimentações.")
    chosen = next((s for s in sheets if _norm(s[0]) == "movimentacoes"), visible[0])
    base = posixpath.dirname(workbook_path)
    rels_path = posixpath.join(base, "_rels", posixpath.basename(workbook_path) + ".rels")
    rels = ElementTree.fromstring(zf.read(rels_path))
    for rel in rels.iter(f"{_NS_PKG_REL}Relationship"):
        if rel.get("Id") == chosen[1]:
            target = rel.get("Target", "")
            path = (
                target.lstrip("/")
                if target.startswith("/")
                else posixpath.normpath(posixpath.join(base, target))
            )
            return chosen[0], path, date1904
    raise KeyError(chosen[1])


_FORMULA_RE = re.compile(rb"<(?:\w+:)?f[\s>/]")
_CELL_REF_RE = re.compile(rb"<(?:\w+:)?c\s[^>]*?\br=\"([A-Z]{1,3}[0-9]{1,7})\"")
_MERGE_RE = re.compile(rb"<(?:\w+:)?mergeCell\s[^>]*?\bref=\"([A-Z0-9:$]+)\"")
_CHUNK = 1 << 20
_OVERLAP = 4096


def _scan_sheet(zf: zipfile.ZipFile, sheet_path: str) -> None:
    """Refuse formulas and merged cells by scanning the sheet's XML (any size, streaming)."""
    tail = b""
    with zf.open(sheet_path) as stream:
        while chunk := stream.read(_CHUNK):
            buf = tail + chunk
            # The regular expressions are slow on XML (a "<" every few bytes): look first.
            formula = _FORMULA_RE.search(buf) if b"<f" in buf or b":f" in buf else None
            if formula:
                refs = _CELL_REF_RE.findall(buf, 0, formula.start())
                where = f" (célula {refs[-1].decode()})" if refs else ""
                raise BatchFileError(
                    f"A planilha tem fórmulas{where}: copie as colunas e cole como valores "
                    "(Colar especial > Valores) e envie de novo."
                )
            merged = _MERGE_RE.search(buf) if b"mergeCell" in buf else None
            if merged:
                raise BatchFileError(
                    f"A planilha tem células mescladas ({merged.group(1).decode()}): desfaça a "
                    "mesclagem; cada célula deve ter o seu valor."
                )
            tail = buf[-_OVERLAP:]


# ---------------------------------------------------------------- reading the lines

_DIGIT_CHARS = frozenset("0123456789 .-/()+")
_SCIENTIFIC_RE = re.compile(r"^\d+([.,]\d+)?e\+?\d+$", re.IGNORECASE)
_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"  # exports add a midnight time
_DMY_RE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})" + _TIME + "$")
_ISO_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})" + _TIME + "$")
_TRUE = {"s", "sim", "x", "1", "true", "verdadeiro", "y", "yes"}
_FALSE = {"n", "nao", "0", "false", "falso", "no"}
_CPF_COLUMNS = frozenset({"cpf", "cpf_titular"})
_CARD_COLUMNS = frozenset({"carteirinha", "carteirinha_titular"})

Converted = tuple[Value, str | None, str | None]  # value, problem, warning


def _cell_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v.strip()
    if isinstance(v, bool):
        return "VERDADEIRO" if v else "FALSO"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e17 else repr(v)
    if isinstance(v, datetime):
        return f"{v:%d/%m/%Y}" if v.time() == time(0) else f"{v:%d/%m/%Y %H:%M}"
    if isinstance(v, date):
        return format_date(v)
    return str(v).strip()


def _aliases(col: Column) -> dict[str, str]:
    table: dict[str, str] = {}
    for code, label in col.choices or ():
        for alias in (code, label, f"{code} - {label}", label.replace("(a)", "")):
            table[_norm(alias)] = code
        base = _norm(label.replace("(a)", ""))
        if col.name == "estado_civil" and base.endswith("o"):
            table[base[:-1] + "a"] = code  # Casada, Viúva...
    if col.name == "tipo_movimento":
        table[_norm("Alteração")] = "ALTERACAO"
    return table


_CACHED_KINDS = frozenset({"choice", "date", "bool"})
_ABSENT = 1 << 30  # the position of a column the file does not have: past any row
_UNUSED = {k: [c.name for c in COLUMNS if k not in c.used_for] for k in MOVEMENT_CODES.values()}
_REQUIRED = {k: [c for c in COLUMNS if k in c.required_for] for k in MOVEMENT_CODES.values()}
_HOLDER_REQUIRED = [c for c in COLUMNS if c.required_for_holder]


class _LineParser:
    def __init__(
        self, positions: dict[str, int], *, date1904: bool, plan_codes: Collection[str] | None
    ) -> None:
        # An optional column the file leaves out reads as empty on every line.
        self.layout = [
            (c.name, c, positions.get(c.name, _ABSENT), c.kind in _CACHED_KINDS) for c in COLUMNS
        ]
        self.epoch = _EXCEL_EPOCH_1904 if date1904 else _EXCEL_EPOCH
        self.aliases = {c.name: _aliases(c) for c in COLUMNS if c.kind in ("choice", "bool")}
        self.plans: dict[str, str] | None = None
        if plan_codes is not None:
            self.plans = {_norm(code): code for code in plan_codes}
        # Choice, date and bool cells repeat a lot: convert each distinct value once.
        self.cache: dict[tuple[str, Any], Converted] = {}

    def line(self, number: int, row: list[Any]) -> BatchLineData:
        values: dict[str, Value] = {}
        raw: dict[str, str] = {}
        problems: dict[str, str] = {}
        warnings: list[str] = []
        size = len(row)
        cache = self.cache
        for name, col, i, cached in self.layout:
            v = row[i] if i < size else None
            text = v.strip() if isinstance(v, str) else _cell_text(v)
            raw[name] = text
            if not text:
                values[name] = None
                continue
            if cached:
                key = (name, v)
                converted = cache.get(key)
                if converted is None:
                    converted = cache[key] = self.convert(col, v, text)
            elif col.kind == "text" and len(text) <= col.max_length:
                values[name] = text
                continue
            else:
                converted = self.convert(col, v, text)
            value, problem, warning = converted
            values[name] = value
            if problem:
                problems[name] = problem
            if warning:
                warnings.append(f"{name}: {warning}")
        code = values["tipo_movimento"]
        kind = MOVEMENT_CODES.get(code) if isinstance(code, str) else None
        if kind is None and "tipo_movimento" not in problems:
            problems["tipo_movimento"] = (
                f"Preencha tipo_movimento: {BY_NAME['tipo_movimento'].format}."
            )
        if kind is not None:
            self.check_required(kind, values, problems, warnings)
        return BatchLineData(number, kind, values, raw, problems, warnings)

    def check_required(
        self,
        kind: MovementKind,
        values: dict[str, Value],
        problems: dict[str, str],
        warnings: list[str],
    ) -> None:
        code = CODE_OF_KIND[kind]
        for name in _UNUSED[kind]:
            if values[name] is not None:
                warnings.append(f"{name}: ignorada em {code}")
                values[name] = None
        required = _REQUIRED[kind]
        what = code
        relationship = values["parentesco"]
        if kind is MovementKind.INCLUSION and relationship == HOLDER_CODE:
            required = required + _HOLDER_REQUIRED
            what = "INCLUSAO de titular"
        for col in required:
            if values[col.name] is None and col.name not in problems:
                problems[col.name] = f"Preencha {col.name} ({col.label}): obrigatório em {what}."
        if (
            kind is MovementKind.INCLUSION
            and relationship not in (None, HOLDER_CODE)
            and all(values[c] is None for c in HOLDER_LINK_COLUMNS)
            and not any(c in problems for c in HOLDER_LINK_COLUMNS)
        ):
            problems["carteirinha_titular"] = (
                "Dependente: informe a carteirinha do titular já cadastrado ou, em cpf_titular, "
                "o CPF do titular (cadastrado ou incluído em linha anterior)."
            )
        if (
            kind is MovementKind.UPDATE
            and all(values[c] is None for c in UPDATE_COLUMNS)
            and not any(c in problems for c in UPDATE_COLUMNS)
        ):
            problems[LINE] = "Alteração sem dados: preencha as colunas que mudam."

    def convert(self, col: Column, v: Any, text: str) -> Converted:
        if col.kind == "text":
            if len(text) > col.max_length:
                return None, f"Use no máximo {col.max_length} caracteres.", None
            return text, None, None
        if col.kind == "digits":
            return self.digits(col, v, text)
        if col.kind == "date":
            return self.date(v, text)
        if col.kind == "bool":
            if isinstance(v, bool):
                return v, None, None
            key = _norm(text)
            if key in _TRUE or key in _FALSE:
                return key in _TRUE, None, None
            return None, "Use S (sim) ou N (não).", None
        return self.choice(col, text)

    def choice(self, col: Column, text: str) -> Converted:
        if col.name == "codigo_plano":
            if self.plans is None:
                return text.split(" - ", 1)[0].strip(), None, None
            table = self.plans
        else:
            table = self.aliases[col.name]
        key = _norm(text)
        code = table.get(key)
        for separator in (" - ", "-"):  # "4 - Filho(a)", "ODT-ESS - Sorriso Essencial"
            if code is None and separator in key:
                code = table.get(key.split(separator, 1)[0].strip())
        if code is None:
            options = ", ".join(dict.fromkeys(table.values()))
            shown = text if len(text) <= 40 else text[:37] + "..."
            return None, f"Valor inválido ({shown}): use um destes: {options}.", None
        return code, None, None

    def digits(self, col: Column, v: Any, text: str) -> Converted:
        if isinstance(v, float) and not v.is_integer():
            return None, f"Use só números ({col.format}).", None
        if _SCIENTIFIC_RE.match(text):
            return (
                None,
                (
                    "Número em notação científica: o Excel cortou os dígitos. Formate a coluna "
                    "como Texto e digite o número de novo."
                ),
                None,
            )
        if not _DIGIT_CHARS.issuperset(text):
            return None, f"Use só números ({col.format}).", None
        digits = text if text.isdigit() and text.isascii() else only_digits(text)
        if col.name in _CPF_COLUMNS:
            try:
                cpf = parse_cpf(digits, col.name)
            except DomainError as exc:
                if len(digits) in (9, 10):
                    return (
                        None,
                        (
                            f"CPF com {len(digits)} dígitos: completar com zeros à esquerda não dá "
                            "um CPF válido. Informe os 11 dígitos (coluna formatada como Texto)."
                        ),
                        None,
                    )
                return None, exc.message, None
            warning = "CPF completado com zeros à esquerda" if len(digits) < 11 else None
            return cpf, None, warning
        if not digits:  # only punctuation ("-", "()"): the cell says nothing, like an empty one
            return None, None, None
        if col.name == "cep" and len(digits) == 7:
            return "0" + digits, None, "CEP completado com zero à esquerda"
        if (
            col.name in _CARD_COLUMNS
            and len(digits) < CARD_LENGTH
            and is_valid_card_number(digits.zfill(CARD_LENGTH))
        ):
            return digits.zfill(CARD_LENGTH), None, "carteirinha completada com zeros à esquerda"
        if len(digits) > col.max_length:
            return None, f"Use no máximo {col.max_length} dígitos ({col.format}).", None
        return digits, None, None

    def date(self, v: Any, text: str) -> Converted:
        invalid = f"Data inválida ({text[:20]}): use dd/mm/aaaa."
        if isinstance(v, datetime):
            return v.date(), None, None
        if isinstance(v, date):
            return v, None, None
        if isinstance(v, int | float) and not isinstance(v, bool):
            return self.serial(float(v), text)
        if text.isdigit() and len(text) <= 5:
            return self.serial(float(text), text)
        if text.isdigit() and len(text) == 8:  # ddmmaaaa without separators
            parts: tuple[str, str, str] = (text[:2], text[2:4], text[4:])
        elif m := _DMY_RE.match(text):
            parts = (m.group(1), m.group(2), m.group(3))
        elif m := _ISO_RE.match(text):
            parts = (m.group(3), m.group(2), m.group(1))
        else:
            return None, invalid, None
        if len(parts[2]) != 4:
            return None, f"Ano com 2 dígitos ({text[:20]}): use dd/mm/aaaa.", None
        try:
            return date(int(parts[2]), int(parts[1]), int(parts[0])), None, None
        except ValueError:
            return None, invalid, None

    def serial(self, serial: float, text: str) -> Converted:
        if not 1 <= serial <= _MAX_SERIAL:
            return None, f"Data inválida ({text[:20]}): use dd/mm/aaaa.", None
        converted = self.epoch + timedelta(days=int(serial))
        shown = format_date(converted)
        return converted, None, f"data convertida do número do Excel ({text} = {shown})"


def _cross_line_checks(lines: list[BatchLineData]) -> None:
    """Duplicated lines, a CPF included twice, a dependent before its holder."""
    seen: dict[tuple[Any, ...], int] = {}
    included_cpf: dict[str, int] = {}
    holder_cpf: dict[str, int] = {}
    for line in lines:
        if line.problems:
            values = [line.raw[c] if c in line.problems else line.values[c] for c in COLUMN_NAMES]
        else:
            values = list(line.values.values())  # built in COLUMN_NAMES order
        # Names are kept as typed: "Ana Souza" and "ANA  SOUZA" make the same line.
        key = tuple(" ".join(v.split()).casefold() if isinstance(v, str) else v for v in values)
        first = seen.setdefault(key, line.line_number)
        if first != line.line_number:
            line.problems[LINE] = f"Linha duplicada da linha {first}: apague uma das duas."
            continue
        if line.kind is not MovementKind.INCLUSION:
            continue
        cpf = line.values["cpf"]
        if isinstance(cpf, str):
            earlier = included_cpf.setdefault(cpf, line.line_number)
            if earlier != line.line_number and "cpf" not in line.problems:
                line.problems["cpf"] = f"CPF já incluído na linha {earlier} deste arquivo."
            elif line.values["parentesco"] == HOLDER_CODE:
                holder_cpf.setdefault(cpf, line.line_number)
    for line in lines:
        holder = line.values.get("cpf_titular")
        if line.kind is MovementKind.INCLUSION and isinstance(holder, str):
            at = holder_cpf.get(holder)
            if at is not None and at > line.line_number and "cpf_titular" not in line.problems:
                line.problems["cpf_titular"] = (
                    f"O titular deste CPF é incluído na linha {at}, depois do dependente: "
                    "coloque a linha do titular antes."
                )


# ---------------------------------------------------------------- result file

LineStatus = tuple[Any, ...]  # (line_number, status, message[, field or fields])
_RED = "F4B6B6"  # the cells to fix
_HEADER_COLOUR = str(HEADER_FILL.fgColor.rgb)  # as the template and the layout
# A refusal message names a column as "cpf: ..." (one part of "a; b") or "coluna cpf".
_NAMED_COLUMN_RE = re.compile(r"(?:^|;\s*)([a-z_]+):|\bcoluna\s+([a-z_]+)")


def _highlighted(line: BatchLineData, message: str, fields: Any) -> set[str]:
    columns = {c for c in line.problems if c in BY_NAME}
    if isinstance(fields, str):
        fields = [fields]
    for name in fields or ():
        column = column_for_field(name)
        if column:
            columns.add(column)
    for named in _NAMED_COLUMN_RE.findall(message):
        columns.update(c for c in named if c in BY_NAME)
    return columns


def _result_rows(
    parsed: ParsedBatch, statuses: Iterable[LineStatus]
) -> Iterator[tuple[list[str], str, str, set[str], int]]:
    by_line = {s[0]: s for s in statuses}
    for line in parsed.lines:
        entry = by_line.get(line.line_number)
        status, message, fields = "", "", None
        if entry is not None:
            status, message = str(entry[1]), str(entry[2] or "")
            fields = entry[3] if len(entry) > 3 else None
        if line.problems and not message:
            status = status or "recusada"
            message = line.problem_message()
        cells = [line.raw.get(c, "") for c in parsed.columns]
        yield cells, status, message, _highlighted(line, message, fields), line.line_number


WAITING_HEADER = (
    "Carência"  # an applied inclusion's waiting periods (services/movements/waiting.py)
)


def result_xlsx(
    parsed: ParsedBatch, statuses: list[LineStatus], waiting: Mapping[int, str] | None = None
) -> bytes:
    """The uploaded lines with a status and a message each; the cells to fix in red.
    With `waiting` (line number -> text), a last column "Carência": each applied
    inclusion's waiting periods."""
    header = [*parsed.columns, "status", "mensagem"]
    if waiting is not None:
        header.append(WAITING_HEADER)
    index = {c: i for i, c in enumerate(parsed.columns)}

    def rows() -> Iterator[list[Any]]:
        for cells, status, message, marked, number in _result_rows(parsed, statuses):
            extra = [] if waiting is None else [waiting.get(number, "")]
            row: list[Any] = [*cells, status, message, *extra]
            for column in marked:
                at = index.get(column)
                if at is not None:
                    row[at] = Styled(row[at], fill=_RED)
            yield row

    sheet = Sheet(
        "Resultado",
        header,
        rows(),
        widths={name: 60 if name in ("mensagem", WAITING_HEADER) else 18 for name in header},
        header_fill=_HEADER_COLOUR,
        freeze_header=True,
    )
    return xlsx_bytes([sheet])


def result_csv(
    parsed: ParsedBatch, statuses: list[LineStatus], waiting: Mapping[int, str] | None = None
) -> bytes:
    """The result as a semicolon CSV, UTF-8 with BOM (opens in Excel as is)."""
    extra = [] if waiting is None else [WAITING_HEADER]
    rows = [[*parsed.columns, "status", "mensagem", *extra]]
    rows += [
        [*cells, status, message, *([] if waiting is None else [waiting.get(number, "")])]
        for cells, status, message, _, number in _result_rows(parsed, statuses)
    ]
    return csv_bytes(rows)
