"""Roster reconciliation (Conciliação de folha): the company's payroll roster against its
holders, as three lists of differences. Pure: rows already read from the file in, lists out.

- The roster's only required column is CPF; nome, data_admissao, data_demissao and
  centro_custo are used when present (header variants, case and accents ignored; columns
  a payroll export adds besides these are ignored and named).
- A line with an invalid CPF, a repeated CPF or an unreadable date is listed with its
  message and never fatal. A line whose CPF is valid still counts as "on the roster" even
  when one of its dates is unreadable: a typo must never offer someone's exclusion.
- The lists (set-based: dicts keyed by CPF, one pass over each side):
  (a) on the roster, not dismissed, not an active beneficiary -> inclusion (reactivation
      when the company has the CPF as an excluded holder: it keeps the card number);
  (b) an active holder not on the roster, or on it with a dismissal date -> exclusion,
      with the reason; holders in an arts. 30/31 stay (Lei 9.656/1998) and holders whose
      exclusion is already scheduled are left out (nothing to do);
  (c) an active holder on the roster whose name or cost centre differs -> update. Names
      are compared without case, accents and repeated spaces (payroll systems drop them).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from services.rules.documents import only_digits, parse_cpf
from services.rules.errors import DomainError
from services.rules.formats import format_date, format_int

CPF, NAME, ADMISSION, DISMISSAL, COST_CENTRE = (
    "cpf",
    "nome",
    "data_admissao",
    "data_demissao",
    "centro_custo",
)
COLUMNS: tuple[str, ...] = (CPF, NAME, ADMISSION, DISMISSAL, COST_CENTRE)
COLUMN_LABELS = {
    CPF: "CPF do empregado (obrigatória)",
    NAME: "Nome completo",
    ADMISSION: "Data de admissão (dd/mm/aaaa)",
    DISMISSAL: "Data de demissão (dd/mm/aaaa), vazia para quem está na empresa",
    COST_CENTRE: "Código do centro de custo (lotação)",
}
# Header variants, normalised by `header_key` (no case, accents or punctuation).
_ALIASES: dict[str, tuple[str, ...]] = {
    CPF: ("cpf", "c_p_f", "n_cpf", "no_cpf", "num_cpf", "numero_cpf", "numero_do_cpf",
          "cpf_funcionario",
          "cpf_do_funcionario", "cpf_colaborador", "cpf_do_colaborador", "cpf_empregado",
          "cpf_do_empregado", "cpf_titular"),
    NAME: ("nome", "nome_completo", "funcionario", "colaborador", "empregado",
           "nome_funcionario", "nome_do_funcionario", "nome_colaborador", "nome_do_colaborador",
           "nome_empregado", "nome_do_empregado", "nome_titular"),
    ADMISSION: ("data_admissao", "data_de_admissao", "admissao", "dt_admissao", "dt_adm",
                "data_adm", "admitido_em"),
    DISMISSAL: ("data_demissao", "data_de_demissao", "demissao", "dt_demissao",
                "data_desligamento", "data_de_desligamento", "desligamento", "dt_desligamento",
                "data_rescisao", "data_da_rescisao", "rescisao", "demitido_em"),
    COST_CENTRE: ("centro_custo", "centro_de_custo", "centro_custos", "centro_de_custos",
                  "cc", "cod_centro_custo", "codigo_centro_custo", "codigo_do_centro_de_custo",
                  "cod_cc", "lotacao", "codigo_lotacao"),
}  # fmt: skip
HEADER_FIELDS: dict[str, str] = {alias: f for f, aliases in _ALIASES.items() for alias in aliases}
NOT_ON_ROSTER = "não está na folha"
_EXCEL_EPOCH = date(1899, 12, 30)
_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?$")


# ---------------------------------------------------------------- reading the roster


def text_key(value: str) -> str:
    """Case-, accent- and space-insensitive form of a text (names, headers, codes)."""
    decomposed = unicodedata.normalize("NFKD", value)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


def header_key(value: Any) -> str:
    """A header cell as a key: "Data de Admissão" -> "data_de_admissao", "CPF:" -> "cpf"."""
    return re.sub(r"[^a-z0-9]+", "_", text_key(cell_text(value))).strip("_")


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return format_date(value.date())
    if isinstance(value, date):
        return format_date(value)
    return str(value).strip()


@dataclass(frozen=True)
class RosterEntry:
    """One employee of the roster, as read (a valid CPF)."""

    line: int  # row number in the file (the header is row 1 when it is the first row)
    cpf: str
    name: str = ""
    admission: date | None = None
    dismissal: date | None = None
    cost_centre: str = ""  # as typed, upper-cased


@dataclass(frozen=True)
class LineError:
    line: int
    value: str  # the CPF (or the cell) as typed
    message: str


@dataclass(frozen=True)
class Roster:
    entries: dict[str, RosterEntry]  # CPF -> the employee (first line of each CPF)
    present: frozenset[str]  # every valid CPF of the file, lines with date problems included
    errors: list[LineError]
    columns: tuple[str, ...]  # the known columns the file has, in COLUMNS order
    ignored: tuple[str, ...]  # header cells of columns not used, as typed
    lines: int  # lines read (not counting the header and blank lines)


def _columns(header: Sequence[Any]) -> tuple[dict[str, int], list[str]]:
    positions: dict[str, int] = {}
    ignored: list[str] = []
    for i, cell in enumerate(header):
        key = header_key(cell)
        if not key:
            continue
        name = HEADER_FIELDS.get(key)
        if name is None:
            ignored.append(cell_text(cell))
            continue
        if name in positions:
            raise DomainError(
                f"O cabeçalho tem duas colunas de {COLUMN_LABELS[name].split(' (')[0]} "
                f"({cell_text(header[positions[name]])} e {cell_text(cell)}): deixe uma só."
            )
        positions[name] = i
    if CPF not in positions:
        raise DomainError(
            "A planilha não tem a coluna CPF: a primeira linha deve ser o cabeçalho, com uma "
            "coluna chamada CPF (as outras, nome, data_admissao, data_demissao e centro_custo, "
            "são opcionais). Use o modelo."
        )
    return positions, ignored


def parse_date(value: Any) -> date | None:
    """A date cell: a date, dd/mm/aaaa, aaaa-mm-dd, ddmmaaaa or an Excel serial number;
    None when empty; DomainError when unreadable."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = cell_text(value)
    try:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if number or (text.isdigit() and len(text) <= 5):
            serial = int(float(text))
            if 1 <= serial <= 2_958_465:
                return _EXCEL_EPOCH + timedelta(days=serial)
        elif text.isdigit() and len(text) == 8:
            return date(int(text[4:]), int(text[2:4]), int(text[:2]))
        elif m := _DMY.match(text):
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        elif m := _ISO.match(text):
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        pass
    raise DomainError(f"data inválida ({text[:20]}): use dd/mm/aaaa")


def parse_roster_cpf(value: Any) -> str:
    """The CPF of a roster cell: with or without punctuation, or a number that lost its
    leading zeros; DomainError when it is not a valid CPF."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return parse_cpf(value)
    text = cell_text(value)
    if not text:
        raise DomainError("CPF vazio: preencha o CPF ou apague a linha")
    if re.fullmatch(r"[\d.\-/\s]+", text):
        return parse_cpf(only_digits(text))
    raise DomainError(f"CPF inválido ({text[:20]}): confira os 11 dígitos")


def parse_roster(rows: Iterable[Sequence[Any]], *, max_lines: int = 100_000) -> Roster:
    """Read the roster's rows (the first non-blank row is the header). The whole file is
    refused (DomainError) only without a CPF column, without lines or with too many."""
    header: Sequence[Any] | None = None
    positions: dict[str, int] = {}
    ignored: list[str] = []
    entries: dict[str, RosterEntry] = {}
    present: set[str] = set()
    errors: list[LineError] = []
    count = 0
    for number, row in enumerate(rows, start=1):
        if not any(cell_text(v) for v in row):
            continue
        if header is None:
            header = row
            positions, ignored = _columns(row)
            continue
        count += 1
        if count > max_lines:
            raise DomainError(
                f"A folha tem mais de {format_int(max_lines)} linhas: divida em arquivos menores."
            )

        def cell(name: str, row: Sequence[Any] = row, at: dict[str, int] = positions) -> Any:
            i = at.get(name)
            return row[i] if i is not None and i < len(row) else None

        raw_cpf = cell(CPF)
        try:
            cpf = parse_roster_cpf(raw_cpf)
        except DomainError as exc:
            errors.append(LineError(number, cell_text(raw_cpf), _sentence(exc.message)))
            continue
        if cpf in present:
            first = entries[cpf].line if cpf in entries else "anterior"
            errors.append(
                LineError(number, cell_text(raw_cpf), f"CPF repetido (já na linha {first}).")
            )
            continue
        present.add(cpf)
        problems: list[str] = []
        dates: dict[str, date | None] = {}
        for name in (ADMISSION, DISMISSAL):
            try:
                dates[name] = parse_date(cell(name))
            except DomainError as exc:
                label = "admissão" if name == ADMISSION else "demissão"
                problems.append(f"{label}: {exc.message}")
        if problems:
            errors.append(
                LineError(
                    number,
                    cell_text(raw_cpf),
                    _sentence("; ".join(problems))
                    + " A linha conta como presente na folha e não gera movimentação.",
                )
            )
            continue
        entries[cpf] = RosterEntry(
            number,
            cpf,
            " ".join(cell_text(cell(NAME)).split()),
            dates[ADMISSION],
            dates[DISMISSAL],
            cell_text(cell(COST_CENTRE)).upper(),
        )
    if header is None or count == 0:
        raise DomainError(
            "A planilha não tem empregados: preencha a partir da linha seguinte ao cabeçalho."
        )
    return Roster(
        entries,
        frozenset(present),
        errors,
        tuple(c for c in COLUMNS if c in positions),
        tuple(ignored),
        count,
    )


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith(".") else text + "."


# ---------------------------------------------------------------- comparing


@dataclass(frozen=True)
class HolderRecord:
    """A holder of the company as the comparison needs it."""

    cpf: str
    name: str
    card: str
    status: str  # "active" or "inactive"
    cost_centre: str = ""  # code, "" for none
    exclusion_date: date | None = None  # set on an active holder: exclusion scheduled
    stay_until: date | None = None  # an arts. 30/31 stay in course
    stay: bool = False  # in an arts. 30/31 stay (also an indefinite one)


@dataclass(frozen=True)
class InclusionOffer:
    entry: RosterEntry
    reactivation_card: str = ""  # the company's excluded holder of this CPF, if any
    former_name: str = ""


@dataclass(frozen=True)
class ExclusionOffer:
    holder: HolderRecord
    reason: str  # "não está na folha" / "demitido em dd/mm/aaaa"
    dismissal: date | None = None
    suggested_reason: str | None = None  # motivo_exclusao code suggested (None: HR chooses)
    roster_line: int | None = None


@dataclass(frozen=True)
class UpdateOffer:
    holder: HolderRecord
    entry: RosterEntry
    new_name: str | None = None  # the roster's name, when it differs
    new_cost_centre: str | None = None  # the roster's code, when it differs
    unknown_cost_centre: bool = False  # the roster's code is not in the company's list


@dataclass(frozen=True)
class Reconciliation:
    inclusions: list[InclusionOffer]
    exclusions: list[ExclusionOffer]
    updates: list[UpdateOffer]
    left_out: list[str] = field(default_factory=list)  # why some were not offered (counts)


def reconcile(
    roster: Roster,
    holders: Iterable[HolderRecord],
    *,
    active_dependent_cpfs: Collection[str] = frozenset(),
    cost_centre_codes: Collection[str] | None = None,
) -> Reconciliation:
    """The three lists. `holders`: the company's holders with a CPF, active and inactive;
    `active_dependent_cpfs`: CPFs covered as active dependents (never offered inclusion);
    `cost_centre_codes`: the company's codes (an unknown roster code is flagged)."""
    active: dict[str, HolderRecord] = {}
    inactive: dict[str, HolderRecord] = {}
    for h in holders:
        if h.status == "active":
            active[h.cpf] = h
        else:
            inactive[h.cpf] = h  # the last one given wins (callers give them oldest first)
    known = {c.upper() for c in cost_centre_codes} if cost_centre_codes is not None else None
    inclusions: list[InclusionOffer] = []
    exclusions: list[ExclusionOffer] = []
    updates: list[UpdateOffer] = []
    dependents = scheduled = staying = 0

    for cpf, entry in roster.entries.items():
        holder = active.get(cpf)
        if holder is None:
            if entry.dismissal is not None:
                continue
            if cpf in active_dependent_cpfs:
                dependents += 1
                continue
            former = inactive.get(cpf)
            inclusions.append(
                InclusionOffer(entry, former.card if former else "", former.name if former else "")
            )
            continue
        if entry.dismissal is not None:
            if holder.stay:
                staying += 1
            elif holder.exclusion_date is not None:
                scheduled += 1
            else:
                exclusions.append(
                    ExclusionOffer(
                        holder,
                        f"demitido em {format_date(entry.dismissal)}",
                        entry.dismissal,
                        "demissao",
                        entry.line,
                    )
                )
            continue
        new_name = (
            entry.name if entry.name and text_key(entry.name) != text_key(holder.name) else None
        )
        cc = entry.cost_centre
        new_cc = cc if cc and cc != holder.cost_centre.upper() else None
        if new_name or new_cc:
            unknown = bool(new_cc) and known is not None and new_cc not in known
            updates.append(UpdateOffer(holder, entry, new_name, new_cc, unknown))

    for cpf, holder in active.items():
        if cpf in roster.present:
            continue
        if holder.stay:
            staying += 1
        elif holder.exclusion_date is not None:
            scheduled += 1
        else:
            exclusions.append(ExclusionOffer(holder, NOT_ON_ROSTER))

    left_out = []
    if dependents:
        left_out.append(
            f"{dependents} CPF(s) da folha já são beneficiários como dependentes: não há "
            "inclusão a oferecer."
        )
    if scheduled:
        left_out.append(
            f"{scheduled} titular(es) fora da folha ou demitidos já têm exclusão agendada."
        )
    if staying:
        left_out.append(
            f"{staying} titular(es) fora da folha ou demitidos estão em permanência "
            "(arts. 30/31 da Lei 9.656): continuam cobertos até o fim dela."
        )
    inclusions.sort(key=lambda o: o.entry.line)
    exclusions.sort(key=lambda o: (o.holder.name.casefold(), o.holder.card))
    updates.sort(key=lambda o: o.entry.line)
    return Reconciliation(inclusions, exclusions, updates, left_out)
