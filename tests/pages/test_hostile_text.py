"""User-typed text is shown as text on every page (issue 11, item 2).

Hostile Markdown is stored in every free-text field (company, group, plan, beneficiary,
user, protocol, batch file name and refused header cell, audit before/after, outbox
subject), every page that shows it is rendered, and every element whose text Streamlit
renders as Markdown (markdown, caption, title, headers, alerts, expander and tab labels,
metric labels, widget labels, help texts and radio options) is parsed with markdown-it:
no link, image or HTML may come from the hostile text, and no emoji, Material icon, math
or autolink literal may survive unescaped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from markdown_it import MarkdownIt
from sqlalchemy import select, text
from streamlit.testing.v1 import AppTest

from data.db import make_engine, make_session_factory
from data.models import Beneficiary, Company
from data.uow import UnitOfWork
from services.access import accounts as access
from services.batch import processing as batch
from tests.pages.conftest import by_label, log_in
from tests.pages.test_batch_pages import _holder, _xlsx, new_cpf

HOSTILE = (
    "[clique](http://evil.example) ![x](http://evil.example/x.png) "
    "<img src=x onerror=alert(1)> **negrito** $x^2$ :smile: :material/home: "
    "www.evil.example evil@evil.example"
)
# Pieces that are live Markdown when they reach the renderer unescaped.
LIVE = (
    "**negrito**",
    "$x^2$",
    ":smile:",
    ":material/home:",
    "www.evil",
    "http://evil",
    "<img",
)
# GitHub autolink literals, which Streamlit's renderer finds in the text once the
# backslash escapes are resolved (so escaping alone does not stop them).
AUTOLINK_LITERAL = re.compile(r"(?i)https?://|www\.|[-.\w+]@[-\w]+\.")
MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])

# Element types whose text is not Markdown (st.text, st.code, dataframes, inputs' values).
NOT_MARKDOWN = {"text", "code", "json", "exception", "dataframe", "arrow_data_frame"}


def _protos(node: Any) -> Iterator[tuple[str, Any]]:
    proto = getattr(node, "proto", None)
    kind = getattr(node, "type", "")
    if proto is not None and kind not in NOT_MARKDOWN:
        yield kind, proto
    for child in getattr(node, "children", {}).values():
        yield from _protos(child)


def markdown_sources(at: AppTest) -> list[tuple[str, str]]:
    """(element type, source) of every string the frontend renders as Markdown."""
    found: list[tuple[str, str]] = []
    for kind, proto in _protos(at._tree):
        fields = {f.name: v for f, v in proto.ListFields()} if hasattr(proto, "ListFields") else {}
        for name in ("body", "label", "help"):
            value = fields.get(name)
            if isinstance(value, str) and value:
                found.append((kind, value))
        for block in ("expandable", "tab"):
            inner = fields.get(block)
            if inner is not None and getattr(inner, "label", ""):
                found.append((block, inner.label))
        if kind == "radio":
            found.extend(("radio option", o) for o in proto.options)
    return found


def _tokens(source: str) -> Iterator[Any]:
    for token in MD.parse(source):
        yield token
        yield from token.children or []


def live_markup(source: str) -> list[str]:
    """What in `source` would render as a link, image, HTML or shortcode."""
    problems = [piece for piece in LIVE if re.search(r"(?<!\\)" + re.escape(piece), source)]
    for token in _tokens(source):
        if token.type == "image":
            problems.append(f"image {token.attrs}")
        elif token.type == "link_open" and "evil" in str(token.attrs.get("href", "")):
            problems.append(f"link {token.attrs}")
        elif token.type == "text" and AUTOLINK_LITERAL.search(token.content):
            problems.append(f"autolink literal in {token.content!r}")
        elif token.type.startswith("html") and ("evil" in token.content or "<img" in token.content):
            problems.append(f"html {token.content!r}")
    return problems


def assert_inert(at: AppTest, *, must_show: bool = True) -> None:
    assert not at.exception, at.exception
    sources = markdown_sources(at)
    bad = [(kind, src, live_markup(src)) for kind, src in sources if live_markup(src)]
    assert not bad, bad
    if must_show:  # the hostile text is on the page (as text), so the check means something
        assert any("negrito" in src for _, src in sources), sources


def _execute(url: str, *statements: tuple[str, dict[str, Any]]) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        for sql, params in statements:
            conn.execute(text(sql), params)
    engine.dispose()


def _scalars(url: str, query: Any) -> list[Any]:
    engine = make_engine(url)
    with engine.connect() as conn:
        values = list(conn.execute(query).scalars())
    engine.dispose()
    return values


@pytest.fixture
def hostile_db(portal_db: str) -> str:
    """The demo with the hostile text in every free-text field."""
    h = {"h": " " + HOSTILE}
    before_after = json.dumps({"contact_name": HOSTILE, "street": HOSTILE})
    _execute(
        portal_db,
        ("UPDATE economic_group SET name = name || :h", h),
        (
            "UPDATE company SET name = name || :h, trade_name = :h, street = :h, "
            "complement = :h, neighbourhood = :h, city = :h, contact_name = :h",
            h,
        ),
        ("UPDATE plan SET name = name || :h", h),
        (
            "UPDATE beneficiary SET name = name || :h, mother_name = :h, street = :h, "
            "complement = :h, neighbourhood = :h, municipality = :h",
            h,
        ),
        ("UPDATE app_user SET name = name || :h", h),
        ("UPDATE protocol SET subject = :h, description = :h", h),
        ("UPDATE protocol_event SET note = :h", h),
        ("UPDATE outbox_email SET subject = :h", h),
        (
            "UPDATE audit_record SET before = :ba, after = :ba WHERE id IN "
            "(SELECT id FROM audit_record ORDER BY id DESC LIMIT 50)",
            {"ba": before_after},
        ),
        ("UPDATE provider SET name = name || :h, street = :h, neighbourhood = :h", h),
    )
    return portal_db


def _receive(url: str, name: str, content: bytes) -> int:
    """A batch sent through the service (refused or not); its id."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    actor = access.actor_for_user(uow=UnitOfWork(factory), user_code="100001")
    assert actor is not None
    with factory() as s:
        company_id = s.scalar(select(Company.id).where(Company.code == "10001"))
    try:
        check = batch.batch_receive(
            uow=UnitOfWork(factory, company_id),
            actor=actor,
            file_name=name,
            content=content,
            now=datetime.now(UTC),
        )
        return check.batch.id
    except batch.BatchFileError:
        ids = _scalars(url, text("SELECT max(id) FROM batch_file"))
        return ids[0]
    finally:
        engine.dispose()


def _open(at: AppTest, page: str) -> AppTest:
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


MASTER_PAGES = [
    "pages/home.py",
    "pages/company_data.py",
    "pages/users_admin.py",
    "pages/plans.py",
    "pages/audit_trail.py",
    "pages/change_password.py",
    "pages/report_active.py",
    "pages/movements_individual.py",
    "pages/invoices.py",
    "pages/batch_start.py",
]


@pytest.mark.parametrize("page", MASTER_PAGES)
def test_pages_show_stored_hostile_text_as_text(app, hostile_db, page):
    at = _open(log_in(app(), "100001"), page)
    assert_inert(at)


def test_user_administration_shows_names_as_text(app, hostile_db):
    at = _open(log_in(app(), "100001"), "pages/users_admin.py")
    for option in range(len(at.selectbox(key="users_edit_pick").options)):
        at.selectbox(key="users_edit_pick").select_index(option).run()
        assert_inert(at)
        assert any("negrito" in c.label for c in at.checkbox if "inativação" in c.label) or any(
            "inativo" in m.value for m in at.markdown
        )


def test_protocol_subject_description_and_notes_are_text(app, hostile_db):
    at = _open(log_in(app(), "100001"), "pages/protocols.py")
    at.selectbox(key="protocol_open").select_index(0).run()
    assert_inert(at)
    shown = " ".join(m.value for m in at.markdown)
    assert "Assunto:" in shown and "negrito" in shown


def test_a_hostile_batch_file_name_and_header_cell_are_text(app, hostile_db):
    refused = _receive(hostile_db, f"{HOSTILE}.csv", f"nome;{HOSTILE}\nMARIA;1\n".encode())
    accepted = _receive(
        hostile_db, f"{HOSTILE}.xlsx", _xlsx([_holder(hostile_db, new_cpf(), "ANA LOTE")])
    )

    at = _open(log_in(app(), "100001"), "pages/batch_start.py")
    at.file_uploader[0].upload(f"{HOSTILE}.csv", f"nome;{HOSTILE}\nMARIA;1\n".encode()).run()
    by_label(at.button, "Conferir arquivo").click().run()
    assert at.error, "the refusal quotes the header"
    assert_inert(at)

    at.file_uploader[0].upload(
        f"{HOSTILE} 2.xlsx", _xlsx([_holder(hostile_db, new_cpf(), "BIA LOTE")])
    ).run()
    by_label(at.button, "Conferir arquivo").click().run()
    assert at.subheader and "negrito" in at.subheader[0].value
    assert_inert(at)

    at = _open(at, "pages/batch_track.py")
    for batch_id in (refused, accepted):
        by_label(at.selectbox, "Ver lote").select(batch_id).run()
        assert_inert(at)


MANAGER_PAGES = [
    "pages/home.py",
    "pages/billing_run.py",
    "pages/portfolio_analysis.py",
    "pages/report_utilization.py",
    "pages/outbox.py",
]


@pytest.mark.parametrize("page", MANAGER_PAGES)
def test_account_manager_pages_show_hostile_text_as_text(app, hostile_db, page):
    at = _open(log_in(app(), "900001"), page)
    assert_inert(at, must_show=page not in ("pages/report_utilization.py",))


def test_lgpd_dossier_shows_the_beneficiary_name_as_text(app, hostile_db):
    card = _scalars(
        hostile_db,
        select(Beneficiary.card_number)
        .join(Company, Company.id == Beneficiary.company_id)
        .where(Company.code == "10001")
        .order_by(Beneficiary.id)
        .limit(1),
    )[0]
    at = _open(log_in(app(), "900001"), "pages/lgpd_request.py")
    by_label(at.text_input, "CPF ou carteirinha do beneficiário *").input(card)
    at.get("form_submit_button")[0].click().run()
    assert at.success and "negrito" in at.success[0].value
    assert_inert(at)
