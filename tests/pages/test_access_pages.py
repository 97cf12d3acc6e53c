"""Access pages and the home page, driven through the frame with AppTest."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from data.db import make_engine
from data.models import Company, OutboxEmail
from tests.pages.conftest import by_label, log_in


def _errors(at) -> list[str]:  # noqa: ANN001
    return [e.value for e in at.error]


def _outbox(url: str) -> list[OutboxEmail]:
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(select(OutboxEmail).order_by(OutboxEmail.id)).all()
    engine.dispose()
    return rows


def test_login_page_shows_the_form_and_the_help_links(app):
    at = app()
    assert [t.label for t in at.text_input] == ["Código de usuário", "Senha"]
    assert at.title[0].value == "Portal Empresa"


def test_wrong_password_and_unknown_user_get_the_same_message(app):
    at = log_in(app(), "100001", "Errada@2026")
    wrong_password = _errors(at)
    at = log_in(app(), "999999", "Errada@2026")
    assert wrong_password == _errors(at)
    assert "Código de usuário ou senha inválidos" in wrong_password[0]


def test_master_logs_in_and_sees_the_home_with_important_dates(app):
    at = log_in(app(), "100001")
    assert at.title[0].value == "Página inicial"
    assert at.caption[0].value.startswith("10001 · ")
    metrics = [m.label for m in at.metric]
    assert "Data de corte deste mês" in metrics
    assert "Próximo vencimento de fatura" in metrics
    assert any("Datas retroativas abertas hoje" in m.value for m in at.markdown)


def test_switching_company_changes_the_company_shown(app):
    at = log_in(app(), "100001")
    switcher = by_label(at.sidebar.selectbox, "Empresa em contexto")
    assert len(switcher.options) == 3  # the three companies of the group
    other = next(o for o in switcher.options if o.startswith("10002"))
    switcher.select(other).run()
    assert at.caption[0].value.startswith("10002 · ")


def test_account_manager_can_switch_to_every_portfolio_company(app):
    at = log_in(app(), "900001")
    switcher = by_label(at.sidebar.selectbox, "Empresa em contexto")
    assert len(switcher.options) >= 8


def _providers_found(at) -> int:  # noqa: ANN001
    # The count's caption; the map tab may add its own caption after it.
    return next(
        int(m.group(1))
        for c in at.caption
        if (m := re.match(r"(\d+) prestador\(es\) encontrado", c.value))
    )


def test_network_search_filters_by_state_and_city(app):
    at = log_in(app(), "100001")
    everyone = _providers_found(at)
    by_label(at.selectbox, "Estado (UF)").select("SP").run()
    by_label(at.selectbox, "Cidade").select("São Paulo").run()
    in_sao_paulo = _providers_found(at)
    assert 0 < in_sao_paulo < everyone
    by_label(at.text_input, "Nome do dentista ou clínica").input("zzzz-ninguém").run()
    assert any("Nenhum prestador" in i.value for i in at.info)


def test_logout_returns_to_the_login_form(app):
    at = log_in(app(), "100001")
    by_label(at.sidebar.button, "Sair").click().run()
    assert [t.label for t in at.text_input] == ["Código de usuário", "Senha"]


def test_first_access_shows_each_problem_next_to_its_field(app):
    at = app().switch_page("pages/first_access.py").run()
    by_label(at.text_input, "Código da empresa *").input("10004")
    by_label(at.text_input, "E-mail *").input("not-an-email")
    by_label(at.text_input, "CNPJ / CAEPF *").input("11.222.333/0001-82")
    by_label(at.text_input, "Senha *").input("fraca")
    by_label(at.text_input, "Confirme sua senha *").input("outra")
    by_label(at.button, "Cadastrar").click().run()
    errors = " ".join(_errors(at))
    assert "mail" in errors.lower()
    assert "CNPJ" in errors
    assert "senha" in errors.lower()
    assert len(at.error) >= 4  # one per field plus the summary


def test_company_first_access_gives_a_user_code_that_logs_in(app, portal_db):
    engine = make_engine(portal_db)
    with engine.connect() as conn:
        cnpj = conn.execute(select(Company.document).where(Company.code == "10004")).scalar_one()
    engine.dispose()
    at = app().switch_page("pages/first_access.py").run()
    by_label(at.text_input, "Código da empresa *").input("10004")
    by_label(at.text_input, "E-mail *").input("rh@empresa10004.com.br")
    by_label(at.text_input, "CNPJ / CAEPF *").input(cnpj)
    by_label(at.text_input, "Senha *").input("Nova@Senha1")
    by_label(at.text_input, "Confirme sua senha *").input("Nova@Senha1")
    by_label(at.button, "Cadastrar").click().run()
    assert not at.exception
    code = re.search(r"\*\*(\d+)\*\*", at.success[0].value).group(1)
    at = log_in(app(), code, "Nova@Senha1")
    assert at.title[0].value == "Página inicial"
    assert at.caption[0].value.startswith("10004 · ")


def test_forgot_password_sends_a_link_that_resets_the_password(app, portal_db):
    engine = make_engine(portal_db)
    with engine.connect() as conn:
        cnpj = conn.execute(select(Company.document).where(Company.code == "10001")).scalar_one()
    engine.dispose()
    at = app().switch_page("pages/forgot_password.py").run()
    by_label(at.text_input, "Código de usuário *").input("100001")
    by_label(at.text_input, "CNPJ / CAEPF *").input(cnpj)
    by_label(at.button, "Enviar link").click().run()
    # Neutral and honest: no "enviado" claim (see pages/forgot_password.py).
    assert "Se os dados conferirem" in at.info[0].value and not at.success
    body = _outbox(portal_db)[-1].body
    token = re.search(r"reset=([\w-]+)", body).group(1)

    at = app(reset=token)
    by_label(at.text_input, "Nova senha *").input("Outra@Senha9")
    by_label(at.text_input, "Confirme a nova senha *").input("Outra@Senha9")
    by_label(at.button, "Salvar nova senha").click().run()
    assert "Senha alterada" in at.success[0].value
    at = log_in(app(), "100001", "Outra@Senha9")
    assert at.title[0].value == "Página inicial"


def test_forgot_user_sends_the_code_only_when_everything_matches(app, portal_db):
    engine = make_engine(portal_db)
    with engine.connect() as conn:
        company = conn.execute(select(Company).where(Company.code == "10001")).one()
    engine.dispose()
    before = len(_outbox(portal_db))
    at = app().switch_page("pages/forgot_user.py").run()
    by_label(at.text_input, "Código da empresa *").input("10001")
    by_label(at.text_input, "CNPJ / CAEPF *").input(company.document)
    by_label(at.text_input, "E-mail *").input(company.contact_email)
    by_label(at.button, "Enviar código de usuário").click().run()
    assert "Se os dados conferirem" in at.info[0].value and not at.success
    sent = _outbox(portal_db)[before:]
    assert any("100001" in m.body for m in sent)


def test_outbox_page_is_not_served_to_an_anonymous_visitor(app):
    """It holds reset links: anonymous visitors get the login instead (more in
    tests/pages/test_outbox_pages.py)."""
    at = app()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/outbox.py")  # not registered for this session
    assert at.title[0].value == "Portal Empresa"  # the login
