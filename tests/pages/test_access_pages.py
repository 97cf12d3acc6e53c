"""Access pages and the home page, driven through the frame with AppTest."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from data.db import make_engine
from data.models import Company, OutboxEmail, User
from services.access import accounts as access
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


def _company(url: str, code: str):  # noqa: ANN202 - a Row
    engine = make_engine(url)
    with engine.connect() as conn:
        row = conn.execute(select(Company).where(Company.code == code)).one()
    engine.dispose()
    return row


def _users_of(url: str, company_code: str) -> list:
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(User.user_code, User.status, User.password_hash)
            .join(Company, Company.id == User.company_id)
            .where(Company.code == company_code)
        ).all()
    engine.dispose()
    return rows


def _user(url: str, code: str):  # noqa: ANN202 - a Row
    engine = make_engine(url)
    with engine.connect() as conn:
        row = conn.execute(select(User).where(User.user_code == code)).one()
    engine.dispose()
    return row


def _fill_first_access(at, code: str, email: str, document: str) -> None:  # noqa: ANN001
    """Whatever the form asks: the identifiers, and a password if it asks for one."""
    labels = {t.label for t in at.text_input}
    by_label(
        at.text_input,
        "Código da empresa *" if "Código da empresa *" in labels else "Código de usuário *",
    ).input(code)
    email_label = next(label for label in labels if label.startswith("E-mail"))
    by_label(at.text_input, email_label).input(email)
    by_label(at.text_input, "CNPJ / CAEPF *").input(document)
    for label in ("Senha *", "Confirme sua senha *"):
        if label in labels:
            by_label(at.text_input, label).input("Tomada@2026")


def test_first_access_shows_each_problem_next_to_its_field(app):
    at = app().switch_page("pages/first_access.py").run()
    assert "Senha *" not in {t.label for t in at.text_input}  # no password before the link
    by_label(at.text_input, "Código da empresa *").input("10004")
    by_label(at.text_input, "E-mail de contato cadastrado *").input("not-an-email")
    by_label(at.text_input, "CNPJ / CAEPF *").input("11.222.333/0001-82")
    by_label(at.button, "Enviar link de ativação").click().run()
    errors = " ".join(_errors(at))
    assert "mail" in errors.lower()
    assert "CNPJ" in errors
    assert len(at.error) >= 3  # one per field plus the summary


def test_identifiers_alone_never_create_or_activate_an_account_from_the_page(app, portal_db):
    """Company code + public CNPJ + any e-mail (+ a password, if the form asked for one)
    took over company 10004 and pending user 100003 before issue 11; now nothing."""
    company, group = _company(portal_db, "10004"), _company(portal_db, "10001")
    at = app().switch_page("pages/first_access.py").run()
    _fill_first_access(at, "10004", "atacante@example.com", company.document)
    at.button[-1].click().run()
    assert not at.exception
    at = app().switch_page("pages/first_access.py").run()
    at.radio[0].set_value("Usuário").run()
    if any(t.label == "Código de usuário *" for t in at.text_input):
        _fill_first_access(at, "100003", "juliana.ramos@horizontelog.com.br", group.document)
        at.button[-1].click().run()
    assert not at.exception
    assert _users_of(portal_db, "10004") == []
    pending = _user(portal_db, "100003")
    assert (pending.status, pending.password_hash) == ("pending", None)


def test_company_first_access_mails_the_link_to_the_contact_and_the_link_activates(app, portal_db):
    company = _company(portal_db, "10004")
    before = len(_outbox(portal_db))
    at = app().switch_page("pages/first_access.py").run()
    by_label(at.text_input, "Código da empresa *").input("10004")
    by_label(at.text_input, "E-mail de contato cadastrado *").input(company.contact_email)
    by_label(at.text_input, "CNPJ / CAEPF *").input(company.document)
    by_label(at.button, "Enviar link de ativação").click().run()
    assert not at.exception
    assert at.success[0].value == access.ACTIVATION_SENT_MESSAGE
    assert _users_of(portal_db, "10004") == []  # nothing created by the form
    (mail,) = _outbox(portal_db)[before:]
    assert mail.to_address == company.contact_email
    token = re.search(r"\?ativar=([\w-]+)", mail.body).group(1)

    at = app(ativar=token)
    assert at.title[0].value == "Ativar acesso"
    assert any("10004" in m.value and "Padaria" in m.value for m in at.markdown)
    by_label(at.text_input, "Senha *").input("Nova@Senha1")
    by_label(at.text_input, "Confirme sua senha *").input("Nova@Senha1")
    by_label(at.button, "Ativar acesso").click().run()
    assert not at.exception
    code = re.search(r"\*\*(\d{6})\*\*", at.success[0].value).group(1)
    assert "código de usuário" in at.info[0].value
    assert [u.user_code for u in _users_of(portal_db, "10004")] == [code]
    at = log_in(app(), code, "Nova@Senha1")
    assert at.title[0].value == "Página inicial"
    assert at.caption[0].value.startswith("10004 · ")
    # The link was single use.
    at = app(ativar=token)
    assert any("já usado" in e for e in _errors(at))
    assert not [t for t in at.text_input if t.label == "Senha *"]


def test_an_e_mail_that_is_not_the_contact_gets_the_same_answer_and_what_to_do(app, portal_db):
    company = _company(portal_db, "10004")
    before = len(_outbox(portal_db))
    at = app().switch_page("pages/first_access.py").run()
    by_label(at.text_input, "Código da empresa *").input("10004")
    by_label(at.text_input, "E-mail de contato cadastrado *").input("rh.novo@example.com.br")
    by_label(at.text_input, "CNPJ / CAEPF *").input(company.document)
    by_label(at.button, "Enviar link de ativação").click().run()
    assert at.success[0].value == access.ACTIVATION_SENT_MESSAGE
    assert at.info[0].value == access.ACTIVATION_NOT_RECEIVED_MESSAGE
    assert "gestor de contas" in at.info[0].value and "contato registrado" in at.info[0].value
    assert len(_outbox(portal_db)) == before


def test_the_demo_box_explains_the_first_access_of_10004_and_the_invitation_of_100003(
    app, portal_db
):
    company = _company(portal_db, "10004")
    at = app()
    # Shown as plain text: backslash escapes and word joiners (components/safe_text.py).
    box = " ".join(m.value for m in at.expander[0].markdown)
    box = box.replace("\\", "").replace("\u2060", "")
    assert "10004" in box and company.contact_email in box
    assert "Meu primeiro acesso" in box and "Caixa de saída" in box and "900001" in box
    assert "100003" in box and "convite" in box


def test_the_user_profile_sends_the_user_to_its_invitation(app):
    at = app().switch_page("pages/first_access.py").run()
    at.radio[0].set_value("Usuário").run()
    assert not at.text_input  # no form: identifiers never activate a user
    assert "convite" in at.info[0].value
    assert any("reenvie o convite" in m.value for m in at.markdown)


def test_the_seeded_invitation_activates_the_pending_user(app, portal_db):
    (mail,) = [m for m in _outbox(portal_db) if m.to_address == "juliana.ramos@horizontelog.com.br"]
    token = re.search(r"\?convite=([\w-]+)", mail.body).group(1)
    at = app(convite=token)
    assert at.title[0].value == "Ativar acesso"
    assert any("Juliana" in m.value and "100003" in m.value for m in at.markdown)
    by_label(at.text_input, "Senha *").input("Juliana#2026")
    by_label(at.text_input, "Confirme sua senha *").input("Outra#2026")
    by_label(at.button, "Ativar acesso").click().run()
    assert any("confirmação" in e for e in _errors(at))
    by_label(at.text_input, "Confirme sua senha *").input("Juliana#2026")
    by_label(at.button, "Ativar acesso").click().run()
    assert "**100003**" in at.success[0].value
    at = log_in(app(), "100003", "Juliana#2026")
    assert at.title[0].value == "Página inicial"


def test_a_link_of_another_purpose_or_unknown_opens_no_form(app, portal_db):
    (mail,) = [m for m in _outbox(portal_db) if m.to_address == "juliana.ramos@horizontelog.com.br"]
    invitation = re.search(r"\?convite=([\w-]+)", mail.body).group(1)
    for params in ({"ativar": invitation}, {"convite": "nao-existe"}):
        at = app(**params)
        assert at.title[0].value == "Ativar acesso"
        assert _errors(at), params
        assert not at.text_input
    assert _user(portal_db, "100003").status == "pending"


def test_links_in_e_mails_use_the_port_served_unless_a_base_url_is_set(app, portal_db, monkeypatch):
    from streamlit import config as st_config

    from config import get_settings

    company = _company(portal_db, "10001")
    previous = st_config.get_option("server.port")
    try:
        st_config.set_option("server.port", 8620)
        for base, expected in ((None, "http://localhost:8620"), ("https://p.example/", None)):
            if base is None:
                monkeypatch.delenv("PORTAL_BASE_URL", raising=False)
            else:
                monkeypatch.setenv("PORTAL_BASE_URL", base)
            get_settings.cache_clear()
            at = app().switch_page("pages/forgot_password.py").run()
            by_label(at.text_input, "Código de usuário *").input("100001")
            by_label(at.text_input, "CNPJ / CAEPF *").input(company.document)
            by_label(at.button, "Enviar link").click().run()
            body = _outbox(portal_db)[-1].body
            assert re.search(rf"^{expected or 'https://p.example'}/\?reset=[\w-]+$", body, re.M)
    finally:
        st_config.set_option("server.port", previous)
        get_settings.cache_clear()


def test_the_master_re_sends_a_pending_user_its_invitation(app, portal_db):
    (old,) = [m for m in _outbox(portal_db) if m.to_address == "juliana.ramos@horizontelog.com.br"]
    at = log_in(app(), "100001")
    at.switch_page("pages/users_admin.py").run()
    pick = by_label(at.selectbox, "Usuário")
    pick.select(next(o for o in pick.options if o.startswith("100003"))).run()
    by_label(at.button, "Reenviar convite").click().run()
    assert not at.exception
    assert any("Convite reenviado" in s.value for s in at.success)
    sent = [m for m in _outbox(portal_db) if m.to_address == "juliana.ramos@horizontelog.com.br"]
    assert len(sent) == 2
    new = re.search(r"\?convite=([\w-]+)", sent[-1].body).group(1)
    at = app(convite=re.search(r"\?convite=([\w-]+)", old.body).group(1))
    assert _errors(at) and not at.text_input  # the old invitation stopped working
    at = app(convite=new)
    assert by_label(at.text_input, "Senha *")


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


def _cookie_script(at) -> str:  # noqa: ANN001
    """The body of the login cookie's script (components.auth.sync_cookie)."""
    bodies = [h.proto.body for h in at.get("html") if "document.cookie" in h.proto.body]
    assert len(bodies) == 1, bodies
    return bodies[0]


def _cookie_value(at) -> str:  # noqa: ANN001
    found = re.search(r'"portal_empresa_auth" \+ "=([^;]*);', _cookie_script(at))
    assert found is not None, _cookie_script(at)
    return found.group(1)


def test_the_login_draws_the_home_at_once_and_writes_a_signed_session_cookie(app):
    at = log_in(app(), "100001")
    assert at.title[0].value == "Página inicial"
    assert at.session_state["login_password"] == ""  # the password is not kept
    script = _cookie_script(at)
    assert "Path=/; Max-Age=43200; SameSite=Strict" in script  # PORTAL_COOKIE_EXPIRY_DAYS
    assert "'https:' ? '; Secure'" in script  # Secure whenever served over https
    actor = at.session_state["actor"]
    token = access.session_token_from_cookie(_cookie_value(at), datetime.now(UTC))
    assert token == access.session_token(actor)
    assert "Sorriso@2026" not in script


def test_the_cookie_logs_back_in_while_its_session_lives_and_logout_deletes_it(
    app, monkeypatch: pytest.MonkeyPatch
):
    from components import auth

    first = log_in(app(), "100001")
    cookie = _cookie_value(first)
    monkeypatch.setattr(auth, "_browser_cookie", lambda: cookie)
    again = app()  # a new browser session with the cookie: in at its first run
    assert again.title[0].value == "Página inicial"
    monkeypatch.setattr(auth, "_browser_cookie", lambda: cookie[:-2] + "xx")
    forged = app()
    assert [t.label for t in forged.text_input] == ["Código de usuário", "Senha"]
    assert "Max-Age=0" in _cookie_script(forged)  # a refused cookie is deleted

    by_label(first.sidebar.button, "Sair").click().run()
    assert [t.label for t in first.text_input] == ["Código de usuário", "Senha"]
    assert "Max-Age=0" in _cookie_script(first)  # the browser's cookie is deleted
    monkeypatch.setattr(auth, "_browser_cookie", lambda: cookie)
    replay = app()  # the same cookie after the logout: worthless
    assert [t.label for t in replay.text_input] == ["Código de usuário", "Senha"]


def test_after_a_login_from_a_used_link_the_token_leaves_the_address_and_logout_shows_the_login(
    app,
):
    at = app(ativar="token-of-a-link-already-used")
    assert any(t.value == "Ativar acesso" for t in at.title)
    at.switch_page("pages/login.py").run()
    log_in(at, "100001")
    assert at.title[0].value == "Página inicial"
    assert "ativar" not in at.query_params
    by_label(at.sidebar.button, "Sair").click().run()
    assert [t.label for t in at.text_input] == ["Código de usuário", "Senha"]
