"""Old names of the pt-BR formats, kept only for the callers not yet moved.

The formats live in `services.rules.formats` and the clock in `components.clock`;
import from there. This module goes when its last caller has moved (see
/work/notes/todo-formats.md)."""

from __future__ import annotations

from components.clock import today_local
from services.rules.formats import BRT, MONTHS, WEEKDAYS, digits_of, latin1
from services.rules.formats import format_card as fmt_card
from services.rules.formats import format_cep as fmt_cep
from services.rules.formats import format_cnpj as fmt_cnpj
from services.rules.formats import format_compact as fmt_compact
from services.rules.formats import format_company_document as fmt_company_document
from services.rules.formats import format_cpf as fmt_cpf
from services.rules.formats import format_date as fmt_date
from services.rules.formats import format_datetime as fmt_datetime
from services.rules.formats import format_field as fmt_field
from services.rules.formats import format_int as fmt_int
from services.rules.formats import format_money as fmt_money
from services.rules.formats import format_month as fmt_month
from services.rules.formats import format_number as fmt_number
from services.rules.formats import format_percent as fmt_pct
from services.rules.formats import format_phone as fmt_phone
from services.rules.formats import format_weekday as fmt_weekday
from services.rules.formats import mask_cpf as fmt_cpf_masked

__all__ = [
    "BRT",
    "MONTHS",
    "WEEKDAYS",
    "digits_of",
    "fmt_card",
    "fmt_cep",
    "fmt_cnpj",
    "fmt_company_document",
    "fmt_compact",
    "fmt_cpf",
    "fmt_cpf_masked",
    "fmt_date",
    "fmt_datetime",
    "fmt_field",
    "fmt_int",
    "fmt_money",
    "fmt_month",
    "fmt_number",
    "fmt_pct",
    "fmt_phone",
    "fmt_weekday",
    "latin1",
    "today_local",
]
