"""portal-serve: a server process loads the portal's modules before its first request."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from components import serve

ROOT = Path(__file__).resolve().parents[2]


def test_warm_up_imports_every_module_a_page_may_use() -> None:
    code = (
        "import sys\n"
        "from components.serve import warm_up\n"
        "warm_up()\n"
        "wanted = ['pandas', 'plotly.graph_objects', 'fpdf', 'openpyxl', 'huey', 'alembic',\n"
        "          'services.reports.analytics', 'services.billing.run', 'components.auth',\n"
        "          'components.provider_map', 'data.uow']\n"
        "missing = [m for m in wanted if m not in sys.modules]\n"
        "print(missing)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
    # st.cache_data's "no runtime yet" warning is silenced while loading, not after.
    assert "No runtime found" not in out.stderr


def test_main_hands_the_options_to_streamlit_run(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []
    monkeypatch.setattr(serve, "warm_up", lambda: 0.0)
    monkeypatch.setattr("streamlit.web.cli.main", lambda: seen.append(list(sys.argv)))
    monkeypatch.setattr(sys, "argv", ["portal-serve"])
    serve.main(["--server.port", "8123"])
    assert seen == [["streamlit", "run", str(ROOT / "streamlit_app.py"), "--server.port", "8123"]]


def test_a_served_portal_neither_watches_files_nor_collects_after_every_run() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["fileWatcherType"] == "none"
    assert config["server"]["runOnSave"] is False
    assert config["runner"]["postScriptGC"] is False
