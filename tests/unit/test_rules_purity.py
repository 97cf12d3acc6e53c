"""services.rules imports only the standard library, never reads the clock, cites its sources."""

import ast
import sys
from pathlib import Path

import pytest

RULES = Path(__file__).resolve().parents[2] / "services" / "rules"
MODULES = sorted(RULES.glob("*.py"))
CLOCK_READS = {"today", "now", "utcnow", "time", "monotonic", "perf_counter"}
SOURCE_MARKERS = ("Lei ", "RN ", "IN RFB", "Resolução", "Portaria", "FEBRABAN", "Banco Central")
# Rule modules no norm governs: the portal's own rules, which their docstring says.
OWN_RULES = {"cost_centres": "No law sets them"}


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_the_rules_package_has_modules() -> None:
    assert {p.stem for p in MODULES} >= {
        "errors",
        "documents",
        "calendar",
        "age_bands",
        "passwords",
        "protocols",
        "card_numbers",
        "retroactive",
        "eligibility",
        "money",
        "boleto",
        "pix",
        "billing",
    }


# babel is CLDR's locale data and pure functions (no I/O, no clock): the pt-BR formats use it.
THIRD_PARTY_ALLOWED = {"formats.py": {"babel"}}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_rules_import_only_the_standard_library_and_each_other(path: Path) -> None:
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: inside services.rules
                continue
            names = [node.module or ""]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            assert (
                top in sys.stdlib_module_names
                or name.startswith("services.rules")
                or top in THIRD_PARTY_ALLOWED.get(path.name, set())
            ), f"{path.name} imports {name}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_rules_never_read_the_clock(path: Path) -> None:
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            assert node.func.attr not in CLOCK_READS, f"{path.name}:{node.lineno} reads the clock"


@pytest.mark.parametrize(
    "path", [p for p in MODULES if p.name != "__init__.py"], ids=lambda p: p.name
)
def test_every_rule_module_names_its_source_in_the_docstring(path: Path) -> None:
    docstring = ast.get_docstring(_tree(path)) or ""
    if path.stem == "errors":
        assert docstring
        return
    if path.stem in OWN_RULES:
        assert OWN_RULES[path.stem] in docstring, path.name
        return
    assert any(marker in docstring for marker in SOURCE_MARKERS), path.name
