"""Cost centres ("centros de custo" / lotação): the company's own codes and names.

No law sets them: they are the company's internal accounting units, which HR asks the
operator to split invoices and reports by (Portal Empresa spec, section 9). The rules
here are the portal's: a code is 1 to 20 characters (letters, digits, space and
. - _ /), compared without regard to case or surrounding spaces; a name is 1 to 120
characters; a holder's cost centre must be an active one of its company, and a
dependent follows its holder's. An imported list is taken whole or not at all.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from services.rules.errors import DomainError

CODE_MAX = 20
NAME_MAX = 120
IMPORT_MAX_LINES = 5_000
CODE_COLUMN = "codigo"
NAME_COLUMN = "nome"
NO_COST_CENTRE = 0  # the filter value for "Sem centro de custo"
NO_COST_CENTRE_LABEL = "Sem centro de custo"
_CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9 ._/-]*$")


@dataclass(frozen=True)
class CostCentreRef:
    """A cost centre as the rules see it."""

    id: int
    code: str
    name: str
    active: bool = True

    @property
    def label(self) -> str:
        return cost_centre_label(self.code, self.name)


def cost_centre_label(code: str | None, name: str | None) -> str:
    """How a cost centre is named on screens and in files: "ADM · Administração"."""
    if not code:
        return NO_COST_CENTRE_LABEL
    return f"{code} · {name}" if name else code


def clean_code(raw: Any, field: str = "code") -> str:
    """The code as stored: trimmed, inner spaces collapsed, upper case."""
    text = " ".join(str(raw if raw is not None else "").split()).upper()
    if not text:
        raise DomainError("Informe o código do centro de custo.", field)
    if len(text) > CODE_MAX:
        raise DomainError(f"O código tem no máximo {CODE_MAX} caracteres.", field)
    if not _CODE_RE.match(text):
        raise DomainError(
            "Código inválido: use letras sem acento, números, espaço e . - _ /.", field
        )
    return text


def clean_name(raw: Any, field: str = "name") -> str:
    """The name as stored: trimmed, inner spaces collapsed, as typed otherwise."""
    text = " ".join(str(raw if raw is not None else "").split())
    if not text:
        raise DomainError("Informe o nome do centro de custo.", field)
    if len(text) > NAME_MAX:
        raise DomainError(f"O nome tem no máximo {NAME_MAX} caracteres.", field)
    if any(unicodedata.category(ch).startswith("C") for ch in text):
        raise DomainError("O nome tem caracteres de controle: digite-o de novo.", field)
    return text


def code_key(raw: Any) -> str:
    """The key two codes are compared by ("adm " and "ADM" are the same code)."""
    return " ".join(str(raw if raw is not None else "").split()).upper()


def resolve_cost_centre(
    raw: Any, centres: Mapping[str, CostCentreRef], field: str = "cost_centre"
) -> CostCentreRef:
    """The active cost centre a form or a file's line names by its code, or the refusal
    that says what to fix (a batch line shows it in its status)."""
    key = code_key(raw)
    if not key:
        raise DomainError(
            "Informe o centro de custo do titular: esta empresa exige um (Empresa > Centros "
            "de custo).",
            field,
        )
    found = centres.get(key)
    if found is None:
        shown = key if len(key) <= 25 else key[:22] + "..."
        if not centres:
            raise DomainError(
                f"Centro de custo {shown}: esta empresa não tem centros de custo cadastrados "
                "(Empresa > Centros de custo); deixe em branco.",
                field,
            )
        raise DomainError(
            f"Centro de custo {shown} não existe nesta empresa: use um código da lista "
            "(Empresa > Centros de custo).",
            field,
        )
    if not found.active:
        raise DomainError(
            f"O centro de custo {found.code} está desativado: escolha outro ou reative-o.", field
        )
    return found


def check_dependent_cost_centre(raw: Any, holder_code: str | None) -> None:
    """A dependent follows its holder: a code given for it must be the holder's."""
    key = code_key(raw)
    if key and key != (holder_code or ""):
        held = f"o do titular é {holder_code}" if holder_code else "o titular não tem um"
        raise DomainError(
            f"O dependente segue o centro de custo do titular ({held}): deixe o centro de "
            "custo em branco.",
            "cost_centre",
        )


# ---------------------------------------------------------------- import


@dataclass(frozen=True)
class ImportedLine:
    line_number: int
    code: str
    name: str


def _header_key(value: Any) -> str:
    text = unicodedata.normalize("NFKD", str(value if value is not None else ""))
    plain = "".join(ch for ch in text if not unicodedata.combining(ch))
    return "_".join(plain.casefold().strip(" *").split())


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a code typed as a number: 101, not 101.0
    return str(value).strip()


def parse_import_rows(rows: Sequence[Sequence[Any]]) -> list[ImportedLine]:
    """The lines of an imported list (a header with the columns codigo and nome, then one
    cost centre per line). Every problem is listed by line, in Portuguese; any problem
    refuses the whole list (nothing is imported)."""
    filled = [
        (number, row) for number, row in enumerate(rows, start=1) if any(_cell(v) for v in row)
    ]
    if not filled:
        raise DomainError("O arquivo está vazio: use o modelo, com o cabeçalho codigo e nome.")
    header_at, header = filled[0]
    keys = [_header_key(v) for v in header]
    if CODE_COLUMN not in keys or NAME_COLUMN not in keys:
        raise DomainError(
            f"A linha {header_at} deve ser o cabeçalho com as colunas {CODE_COLUMN} e "
            f"{NAME_COLUMN} (baixe o modelo)."
        )
    code_at, name_at = keys.index(CODE_COLUMN), keys.index(NAME_COLUMN)
    body = filled[1:]
    if not body:
        raise DomainError("O arquivo não tem centros de custo: preencha a partir da linha 2.")
    if len(body) > IMPORT_MAX_LINES:
        raise DomainError(
            f"O arquivo passa de {IMPORT_MAX_LINES} linhas: esse é o limite de centros de "
            "custo de uma lista."
        )
    problems: list[str] = []
    lines: list[ImportedLine] = []
    seen: dict[str, int] = {}
    for number, row in body:
        cells = list(row)
        raw_code = _cell(cells[code_at]) if code_at < len(cells) else ""
        raw_name = _cell(cells[name_at]) if name_at < len(cells) else ""
        here: list[str] = []
        code = name = ""
        try:
            code = clean_code(raw_code)
        except DomainError as exc:
            here.append(f"codigo: {exc.message}")
        try:
            name = clean_name(raw_name)
        except DomainError as exc:
            here.append(f"nome: {exc.message}")
        if code and not here:
            earlier = seen.setdefault(code, number)
            if earlier != number:
                here.append(f"codigo: {code} já aparece na linha {earlier}")
        if here:
            problems.append(f"Linha {number}: " + "; ".join(m.rstrip(".") for m in here) + ".")
        else:
            lines.append(ImportedLine(number, code, name))
    if problems:
        raise ImportRefused(problems)
    return lines


class ImportRefused(DomainError):
    """The imported list has problems; `problems` says each one, by line."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        super().__init__(
            f"Nada foi importado: corrija {count} linha(s) e envie de novo. "
            + " ".join(self.problems[:20])
            + (" ..." if count > 20 else "")
        )
