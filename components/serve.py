"""`portal-serve`: one portal server process, warm before its first request.

    portal-serve --server.port 8501          # = streamlit run streamlit_app.py --server.port 8501

`streamlit run` imports the app's modules only when the first visitor's script run needs
them, so the first visitor of every process (after each start, and on every replica of
the production layout) waited for about two seconds of imports: SQLAlchemy's mappers,
alembic, the task queue, pandas, plotly, fpdf2, openpyxl, babel's pt_BR data and the
map's state outlines. Here the process does that work before its server opens its port
(so its health check, which the proxy and the tests wait on, answers only once it is
ready), then hands the given options to `streamlit run streamlit_app.py`.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "streamlit_app.py"
# The packages whose every module a page may import; their third-party imports come along.
PACKAGES = ("data", "services", "components")
# Modules that only a command line uses (they parse arguments or print at import).
SKIP = ("components.serve",)


def warm_up() -> float:
    """Import every module of PACKAGES and build what they build once per process;
    returns the seconds it took."""
    started = time.perf_counter()
    # st.cache_data checks its options when a function is decorated and, with no server
    # running yet, logs that it would use a memory cache: true, and no news here (the
    # caches are made at the first call, inside the server).
    import streamlit.runtime.caching.cache_data_api  # noqa: F401 - sets its logger's level

    quiet = logging.getLogger("streamlit.runtime.caching.cache_data_api")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    for name in PACKAGES:
        package = importlib.import_module(name)
        for module in pkgutil.walk_packages(package.__path__, prefix=f"{name}."):
            if module.name not in SKIP:
                importlib.import_module(module.name)
    from sqlalchemy.orm import configure_mappers

    from components.provider_map import br_states
    from services.rules.formats import format_money

    configure_mappers()  # else the first query of the process configures every mapper
    br_states()  # the offline map's outlines, read and parsed once
    format_money(0)  # babel loads its pt_BR data on first use
    quiet.setLevel(level)
    return time.perf_counter() - started


def main(argv: Sequence[str] | None = None) -> None:
    """Warm up, then `streamlit run streamlit_app.py` with the given options."""
    from streamlit.web import cli

    seconds = warm_up()
    print(f"portal-serve: modules loaded in {seconds:.1f} s", file=sys.stderr, flush=True)
    options = list(sys.argv[1:] if argv is None else argv)
    sys.argv = ["streamlit", "run", str(APP), *options]
    cli.main()


if __name__ == "__main__":
    main()
