"""Names vulture reports as unused that a framework uses: `make lint`'s dead-code check.

vulture matches by name, so one entry keeps a name alive everywhere. Add a name here only
when something outside our code reads it, and say what; dead code is deleted instead.
Run through mypy too, so an entry naming something that no longer exists fails the lint.
"""

import sqlite3

from openpyxl.cell.cell import Cell
from openpyxl.worksheet.worksheet import Worksheet
from vulture.whitelist_utils import Whitelist

import services.billing
from config import Settings
from data.models import (
    Base,
    BatchFile,
    Beneficiary,
    Boleto,
    Company,
    JobRun,
    Movement,
    OutboxEmail,
    Payment,
    Protocol,
    UserSession,
)
from data.types import Money, UtcDateTime
from services.billing.prices import copy_reference_tables
from services.rules.boleto import barcode_from_typed_line, due_date_from_factor
from services.rules.documents import DocumentType, parse_company_document
from services.rules.ledger import reference_lines

_ = Whitelist()

# SQLAlchemy's declarative base reads it to map Mapped[datetime] and Mapped[Decimal].
Base.type_annotation_map
# The other side of ContractedPlan.company (back_populates needs both ends).
Company.contracted_plans
# Columns of the schema that the code writes (often through insert dictionaries or
# constructor keywords) and the database keeps for audit and history, never read back.
Beneficiary.municipality_ibge
Beneficiary.updated_at
Protocol.opened_by_user_id
BatchFile.finished_at
Movement.is_retroactive
Movement.actor_user_id
Movement.old_plan_id
Movement.new_plan_id
Movement.cancelled_at
Movement.cancel_protocol_id
Boleto.replaced_by_id
Payment.boleto_id
UserSession.end_reason
OutboxEmail.sent_at
JobRun.started_at
# SQLAlchemy's TypeDecorator protocol: it reads impl and cache_ok and calls the hooks.
Money.impl
Money.cache_ok
Money.process_bind_param
UtcDateTime.process_result_value
# pysqlite's connection attribute, set so that SQLAlchemy opens the transactions.
sqlite3.Connection.isolation_level
# pydantic-settings reads the model's configuration.
Settings.model_config
# openpyxl's worksheet and cell properties, set to lay out the spreadsheets we write.
Worksheet.freeze_panes
Worksheet.sheet_state
Cell.alignment
Cell.data_type
# PEP 562: Python calls a package's module-level __getattr__ and __dir__ (lazy imports).
services.billing.__getattr__
services.billing.__dir__
# The pure statement of an invoice's lines: the set-based billing is property-tested
# against it (tests/services/test_ledger_property.py).
reference_lines
# Boleto rules kept as the tests' oracles: reading the date back from a factor is the
# documented answer to the 2025-02-22 factor restart (docs/domain/boleto-and-pix.md), and
# the barcode behind a typed line checks every boleto the billing writes (test_payments).
due_date_from_factor
barcode_from_typed_line
# The company-document member of the parse_* family, fuzzed with the others
# (tests/unit/test_fuzz.py); the company form still checks with is_valid_company_document.
parse_company_document
# An enum member reached by value (DocumentType(doc_type), the values listed), not by name.
DocumentType.CAEPF
# The context-manager protocol passes these arguments to __exit__.
_.exc_type
_.tb
# A cache key: st.cache_data keeps masked and unmasked reports apart by this argument.
_.personal
# A cache key: the companies' data version (components/report_widgets.py), so a change
# committed on any portal process reaches every process's cached reports.
_.version
# Streamlit's AppTest has no public way to share a component registry across the
# simulated sessions of benchmarks/load.py; the benchmark sets it for speed.
_._bidi_component_manager
# The documented step that gives a new contracted plan its own price tables (module
# docstring); contracts come from the seed today, tests/pages/test_price_pages.py uses it.
copy_reference_tables
# A result field: the reissue reports which boleto it replaced (test_payments checks it).
_.replaced_boleto_id
# Documents on demand: fpdf2 calls FPDF.footer on every page (the verification box), and
# who issued a document is a column the service writes (IssuedDocument(...)).
_.footer
_.issued_by_user_id
