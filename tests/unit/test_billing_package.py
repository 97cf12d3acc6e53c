"""services.billing: every public name reachable from the package, as it was before the
split, whichever of its modules were imported first."""

from __future__ import annotations

import importlib
import subprocess
import sys
import types

from services import billing

MODULES = ("frames", "invoices", "exports", "reports", "run", "summary", "ledger_export")


def test_every_public_name_comes_from_its_module_and_none_is_a_module():
    for module in MODULES:
        importlib.import_module(f"services.billing.{module}")  # submodules loaded first
    assert set(billing.__all__) == set(billing._NAMES)
    for name in billing.__all__:
        value = getattr(billing, name)
        assert not isinstance(value, types.ModuleType), name
        source = importlib.import_module(f"services.billing.{billing._NAMES[name]}")
        assert value is getattr(source, name), name


def test_the_names_used_before_the_split_are_still_there():
    for name in (
        "InvoiceRow",
        "InvoiceDetail",
        "LINE_COLUMNS",
        "invoice_row_of",
        "invoice_years",
        "invoice_list",
        "invoice_detail",
        "invoice_download",
        "table_download",
        "billing_report_options",
        "billing_report",
        "billing_report_download",
        "BillingRunResult",
        "billing_month_options",
        "billing_run",
        "money",
    ):
        assert callable(getattr(billing, name)) or isinstance(getattr(billing, name), list)


def test_an_unknown_name_is_an_attribute_error():
    try:
        billing.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_the_ledger_export_does_not_load_pandas():
    code = (
        "import sys, services.billing.cli; "
        "from services.billing import ledger_rows; "
        "print('pandas' in sys.modules, 'openpyxl' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
