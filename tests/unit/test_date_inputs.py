"""Every date input of the interface reads dd/mm/aaaa: each `date_input(...)` call in
pages/, components/ and streamlit_app.py passes format="DD/MM/YYYY" (Streamlit's default
is YYYY/MM/DD)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [
    *sorted((ROOT / "pages").rglob("*.py")),
    *sorted((ROOT / "components").rglob("*.py")),
    ROOT / "streamlit_app.py",
]


def _date_input_calls(path: Path) -> list[ast.Call]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    calls = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name == "date_input":
            calls.append(node)
    return calls


def _format_of(call: ast.Call) -> object:
    for keyword in call.keywords:
        if keyword.arg == "format":
            return keyword.value.value if isinstance(keyword.value, ast.Constant) else "?"
    return None


def test_every_date_input_reads_day_month_year():
    found = 0
    wrong = []
    for path in SOURCES:
        for call in _date_input_calls(path):
            found += 1
            if _format_of(call) != "DD/MM/YYYY":
                wrong.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    assert found >= 5, "the search found no date inputs: is the source tree where it was?"
    assert wrong == [], "date_input without format='DD/MM/YYYY': " + ", ".join(wrong)


def test_the_check_catches_a_date_input_without_the_format(tmp_path):
    bad = tmp_path / "page.py"
    bad.write_text(
        'import streamlit as st\nd = st.date_input("Data")\n'
        'e = st.date_input("Data", format="YYYY/MM/DD")\n',
        encoding="utf-8",
    )
    assert [_format_of(c) for c in _date_input_calls(bad)] == [None, "YYYY/MM/DD"]
