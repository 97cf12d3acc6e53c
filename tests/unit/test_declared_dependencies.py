"""Every third-party package the code imports is declared in pyproject.toml.

A package that arrives only as another one's dependency works until that one drops it.
The app may import only [project] dependencies; tests and benchmarks also the test extra.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = ["config.py", "streamlit_app.py", "data", "services", "components", "pages", "demo"]
TOOLING = ["tests", "benchmarks", "deploy", "vulture_whitelist.py"]
OURS = {Path(p).stem for p in APP + TOOLING}


def _name(requirement: str) -> str:
    """PEP 503 normalised distribution name of a requirement string."""
    return re.sub(r"[-_.]+", "-", re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0]).lower()


def _declared() -> tuple[set[str], set[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    runtime = {_name(r) for r in project["dependencies"]}
    return runtime, runtime | {_name(r) for r in project["optional-dependencies"]["test"]}


def _imports(paths: list[str], root: Path = ROOT) -> dict[str, set[str]]:
    """Top-level module imported -> the files importing it (absolute imports only)."""
    found: dict[str, set[str]] = {}
    for entry in paths:
        base = root / entry
        for file in [base] if base.is_file() else sorted(base.rglob("*.py")):
            tree = ast.parse(file.read_text("utf-8"), str(file))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.split(".")[0]
                    found.setdefault(top, set()).add(str(file.relative_to(root)))
    return {
        module: files
        for module, files in found.items()
        if module not in sys.stdlib_module_names and module not in OURS
    }


def _undeclared(imports: dict[str, set[str]], allowed: set[str]) -> dict[str, list[str]]:
    distributions = packages_distributions()
    return {
        module: sorted(files)
        for module, files in imports.items()
        if not {_name(d) for d in distributions.get(module, [])} & allowed
    }


@pytest.mark.parametrize(("paths", "scope"), [(APP, "runtime"), (TOOLING, "test")])
def test_every_imported_package_is_declared(paths: list[str], scope: str):
    runtime, with_test = _declared()
    undeclared = _undeclared(_imports(paths), runtime if scope == "runtime" else with_test)
    assert not undeclared, f"imported but not in the {scope} dependencies: {undeclared}"


def test_the_check_reports_a_package_no_requirement_declares(tmp_path: Path):
    (tmp_path / "page.py").write_text(
        "import os\nimport yaml\nimport sqlalchemy.orm\nfrom data.models import User\n"
        "from . import sibling\n",
        "utf-8",
    )
    imports = _imports(["page.py"], root=tmp_path)
    assert set(imports) == {"yaml", "sqlalchemy"}  # not the stdlib, ours or relative
    runtime, _ = _declared()
    assert _undeclared(imports, runtime) == {"yaml": ["page.py"]}
