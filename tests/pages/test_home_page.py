"""The home page through the frame with AppTest: dates and shortcuts first, no copy of
the sidebar menu, a moved cut-off, the overdue invoice's link, and the provider map
drawn from the shipped geometry when map tiles do not load."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from components import provider_map
from components.clock import today_local
from data.db import make_engine
from data.models import Company, Invoice
from services.movements.service import ExclusionRequest
from services.rules.calendar import is_business_day
from services.rules.formats import format_date
from tests.pages.conftest import log_in


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Map tiles do not load (as on this machine, the e2e machine and demo rooms)."""
    monkeypatch.setattr(provider_map, "tiles_available", lambda: False)


def _company_id(url: str, code: str) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        found = conn.execute(select(Company.id).where(Company.code == code)).scalar_one()
    engine.dispose()
    return found


def _tree_order(at) -> list[tuple[str, str]]:  # noqa: ANN001 - AppTest
    """(type, text) of the main area's elements, in the order the page draws them."""
    found = []

    def walk(node) -> None:  # noqa: ANN001
        for child in getattr(node, "children", {}).values():
            kind = getattr(child, "type", "")
            if kind in ("subheader", "markdown"):
                found.append((kind, str(child.value)))
            elif kind in ("metric", "page_link"):
                found.append((kind, str(child.label)))
            elif kind == "plotly_chart":
                found.append((kind, ""))
            walk(child)

    walk(at.main)
    return found


def _labels(at, kind: str) -> list[str]:  # noqa: ANN001
    return [text for k, text in _tree_order(at) if k == kind]


def test_dates_and_shortcuts_come_before_the_network_search_and_no_menu_copy(app, offline):
    at = log_in(app(), "100001")
    assert at.title[0].value == "Página inicial"
    subheaders = [s.value for s in at.subheader]
    assert "Menu" not in subheaders
    assert subheaders.index("Datas importantes") < subheaders.index("Busca de rede")
    assert subheaders.index("Atalhos") < subheaders.index("Busca de rede")
    order = _tree_order(at)
    first_metric = next(i for i, (k, _) in enumerate(order) if k == "metric")
    search = order.index(("subheader", "Busca de rede"))
    assert first_metric < search
    # The page links in the body are the shortcuts only: the sidebar is the menu.
    links = _labels(at, "page_link")
    assert links == [
        "Administrar usuários",
        "Incluir beneficiário",
        "Enviar arquivo de movimentação",
        "2ª via de boleto",
        "Relatório de ativos",
    ]
    assert all(o[1] not in ("**Empresa**", "**Financeiro**", "**Relatórios**") for o in order)


def _non_business_day_this_month(today: date) -> date:
    day = today.replace(day=1)
    while is_business_day(day):
        day += timedelta(days=1)
    return day


def test_a_cutoff_on_a_non_business_day_says_the_last_business_day_before_it(
    app, portal_db, offline
):
    today = today_local()
    cutoff = _non_business_day_this_month(today)
    engine = make_engine(portal_db)
    with engine.begin() as conn:
        conn.execute(update(Company).where(Company.code == "10001").values(cutoff_day=cutoff.day))
    engine.dispose()
    at = log_in(app(), "100001")
    captions = [c.value for c in at.caption]
    moved = next(c for c in captions if c.startswith("Data de corte:"))
    assert moved.startswith(f"Data de corte: {format_date(cutoff)} (")
    last = cutoff - timedelta(days=1)
    while not is_business_day(last):
        last -= timedelta(days=1)
    assert f"→ movimentações até {format_date(last)}" in moved

    # A cut-off on a business day says nothing more.
    business = cutoff
    while not is_business_day(business):
        business += timedelta(days=1)
    engine = make_engine(portal_db)
    with engine.begin() as conn:
        conn.execute(update(Company).where(Company.code == "10001").values(cutoff_day=business.day))
    engine.dispose()
    at = log_in(app(), "100001")
    assert not [c.value for c in at.caption if c.value.startswith("Data de corte:")]


def _make_one_invoice_overdue(url: str, code: str) -> int:
    """Every invoice of the company paid except one, open and due a month ago."""
    company_id = _company_id(url, code)
    engine = make_engine(url)
    with engine.begin() as conn:
        ids = conn.execute(
            select(Invoice.id, Invoice.due_date)
            .where(Invoice.company_id == company_id)
            .order_by(Invoice.billing_month)
        ).all()
        for invoice_id, due in ids:
            conn.execute(
                update(Invoice).where(Invoice.id == invoice_id).values(status="paid", paid_on=due)
            )
        chosen = ids[-2][0]
        conn.execute(
            update(Invoice)
            .where(Invoice.id == chosen)
            .values(status="open", paid_on=None, due_date=today_local() - timedelta(days=20))
        )
    engine.dispose()
    return chosen


def test_an_overdue_invoice_links_to_its_update_with_it_selected(app, portal_db, offline):
    invoice_id = _make_one_invoice_overdue(portal_db, "10001")
    at = log_in(app(), "100001")
    assert any("1 fatura(s) vencida(s)" in c.value for c in at.caption)
    link = next(b for b in at.button if b.key == f"home_overdue_{invoice_id}")
    assert link.label.startswith("Atualizar a fatura de ")
    link.click().run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Atualização de faturas vencidas"
    chosen = next(s for s in at.selectbox if s.key == "overdue_invoice")
    assert chosen.value == invoice_id


def test_a_user_without_finance_sees_the_count_but_no_link(app, portal_db, offline):
    _make_one_invoice_overdue(portal_db, "10001")
    at = log_in(app(), "100002")
    assert at.title[0].value == "Página inicial"
    assert any("1 fatura(s) vencida(s)" in c.value for c in at.caption)
    assert not [b for b in at.button if (b.key or "").startswith("home_overdue_")]


def _figure(at) -> dict:  # noqa: ANN001
    """The provider map, once its tab is opened (the page builds it only then)."""
    assert at.get("plotly_chart") == []  # the list tab is open: no map built
    at.session_state["net_view"] = "Mapa"
    at.run()
    assert not at.exception, at.exception
    charts = at.get("plotly_chart")
    assert len(charts) == 1
    return json.loads(charts[0].proto.spec)


def test_without_tiles_the_map_draws_the_shipped_states_and_the_providers(app, offline):
    at = log_in(app(), "100001")
    figure = _figure(at)
    assert provider_map.OFFLINE_CAPTION in [c.value for c in at.caption]
    traces = figure["data"]
    shipped = provider_map.br_states()["features"]
    outlines = [t for t in traces if t.get("fill") == "toself"]
    assert [t["meta"] for t in outlines] == [f["id"] for f in shipped]
    assert len(outlines) == 27
    for trace, feature in zip(outlines, shipped, strict=True):
        rings = [ring for poly in feature["geometry"]["coordinates"] for ring in poly]
        assert sum(x is not None for x in trace["x"]) == sum(len(r) for r in rings)
        assert trace["x"][: len(rings[0])] == [p[0] for p in rings[0]]
        assert trace["y"][: len(rings[0])] == [p[1] for p in rings[0]]
    # No tile layer and no geo subplot (which would fetch topojson from a CDN).
    assert all(t.get("type", "scatter") == "scatter" for t in traces)
    assert "map" not in figure["layout"] and "geo" not in figure["layout"]
    markers = [t for t in traces if t.get("mode") == "markers"]
    count = int(next(c.value for c in at.caption if "prestador(es)" in c.value).split()[0])
    assert sum(len(t["x"]) for t in markers) == count > 0
    assert {t["name"] for t in markers} <= {"Clínica", "Dentista"}
    # Hover in Portuguese: the provider's name, kind, specialties and address.
    assert markers[0]["customdata"][0][1] in ("Clínica", "Dentista")
    assert markers[0]["hovertemplate"].endswith("<extra></extra>")


def test_with_tiles_the_map_is_a_tile_map_without_the_offline_caption(
    app, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(provider_map, "tiles_available", lambda: True)
    at = log_in(app(), "100001")
    figure = _figure(at)
    assert provider_map.OFFLINE_CAPTION not in [c.value for c in at.caption]
    assert {t["type"] for t in figure["data"]} == {"scattermap"}
    assert figure["layout"]["map"]["style"] == provider_map.TILE_STYLE


def test_the_tile_check_says_no_quickly_when_the_server_does_not_answer():
    # A closed local port: refused at once; and an address that never answers is cut
    # at the timeout (name lookup included, so a demo room without DNS does not hang).
    assert provider_map._tile_server_answers("http://127.0.0.1:9/style.json", 2.0) is False
    assert provider_map._tile_server_answers("not a url", 2.0) is False


def test_the_tile_check_never_holds_a_page(monkeypatch: pytest.MonkeyPatch):
    import time

    def slow_answer() -> bool:
        time.sleep(1.0)
        return True

    monkeypatch.setattr(provider_map, "_tile_server_answers", slow_answer)
    monkeypatch.setitem(provider_map._check_state, "checked_at", 0.0)
    monkeypatch.setitem(provider_map._check_state, "answered", False)
    monkeypatch.setitem(provider_map._check_state, "running", False)
    started = time.monotonic()
    assert provider_map.tiles_available() is False  # not known yet: the offline map
    assert time.monotonic() - started < 0.5
    deadline = time.monotonic() + 10
    while provider_map._check_state["running"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert provider_map.tiles_available() is True  # checked: the tile map from now on


def test_the_home_page_lists_the_scheduled_movements(app, portal_db, offline):
    from datetime import UTC, datetime

    from sqlalchemy.orm import sessionmaker

    from data.models import Beneficiary
    from data.uow import UnitOfWork
    from services.access import accounts as access
    from services.movements import service as movements

    engine = make_engine(portal_db)
    factory = sessionmaker(engine)
    actor = access.actor_for_user(uow=UnitOfWork(factory), user_code="100001")
    assert actor is not None
    company = _company_id(portal_db, "10001")
    with factory() as s:
        dependents = select(Beneficiary.holder_id).where(
            Beneficiary.status == "active", Beneficiary.holder_id.is_not(None)
        )
        card, name = s.execute(
            select(Beneficiary.card_number, Beneficiary.name)
            .where(
                Beneficiary.company_id == company,
                Beneficiary.status == "active",
                Beneficiary.relationship_code == 1,
                Beneficiary.id.not_in(dependents),
            )
            .limit(1)
        ).one()
    day = today_local() + timedelta(days=15)
    result = movements.movement_apply(
        uow=UnitOfWork(factory, company),
        actor=actor,
        request=ExclusionRequest(card_number=card, reason="outros", effective_date=day),
        now=datetime.now(UTC),
    )
    engine.dispose()
    assert result.scheduled
    at = log_in(app(), "100001")
    assert any(m.value == "**Movimentações agendadas (1)**" for m in at.markdown)
    table = next(d.value for d in at.dataframe if "Movimentação" in d.value.columns)
    assert list(table["Data"]) == [format_date(day)]
    assert list(table["Beneficiários"]) == [name]
    assert list(table["Protocolo"]) == [result.protocol_number]
