"""Empresa: Meus dados, Alterar senha, Planos contratados, Usuários, Trilha de auditoria."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from components.navigation import pages_for
from components.plan_pdf import general_conditions_pdf
from data.db import make_engine, make_session_factory
from data.models import AuditRecord, Company, OutboxEmail, User
from data.uow import UnitOfWork
from services import companies
from services.access import accounts as access
from services.access.accounts import SESSION_ENDED_MESSAGE
from services.actors import PERMISSION_LABELS, Permission
from tests.pages.conftest import by_label, log_in

NEW_PASSWORD = "Outra#Senha7"


def _open(at, page: str):  # noqa: ANN001, ANN202
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _errors(at) -> list[str]:  # noqa: ANN001
    return [e.value for e in at.error]


def _rows(url: str, query):  # noqa: ANN001, ANN202
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    engine.dispose()
    return rows


# ---------------------------------------------------------------- Meus dados


def test_company_data_shows_registration_read_only_and_saves_contact_changes(app, portal_db):
    at = _open(log_in(app(), "100001"), "pages/company_data.py")
    assert at.title[0].value == "Meus dados"
    assert by_label(at.text_input, "Código da empresa").value == "10001"
    assert by_label(at.text_input, "Razão social").disabled
    by_label(at.text_input, "Telefone *").input("(20) 3333-4444")
    by_label(at.text_input, "CEP *").input("123")
    at.get("form_submit_button")[0].click().run()
    errors = _errors(at)
    assert any("DDD 20 não existe" in e for e in errors)
    assert any("CEP inválido" in e for e in errors)
    before = _rows(portal_db, select(Company.phone).where(Company.code == "10001"))[0][0]
    assert before != "2033334444"

    by_label(at.text_input, "Telefone *").input("(11) 98765-4321")
    by_label(at.text_input, "CEP *").input("01310-100")
    at.get("form_submit_button")[0].click().run()
    assert not _errors(at), _errors(at)
    assert any("Dados alterados" in s.value for s in at.success)
    phone, cep = _rows(
        portal_db, select(Company.phone, Company.cep).where(Company.code == "10001")
    )[0]
    assert (phone, cep) == ("11987654321", "01310100")
    audit = _rows(
        portal_db,
        select(AuditRecord.before, AuditRecord.after).where(
            AuditRecord.action == "company_contact_update"
        ),
    )
    assert audit[-1][1]["phone"] == "11987654321"
    assert "phone" in audit[-1][0]


def test_a_user_without_administration_sees_the_data_but_cannot_save(app):
    at = _open(log_in(app(), "100002"), "pages/company_data.py")
    assert at.title[0].value == "Meus dados"
    assert by_label(at.text_input, "Telefone *").disabled
    assert at.get("form_submit_button")[0].disabled
    assert any("Somente o usuário master" in i.value for i in at.info)


# ---------------------------------------------------------------- Alterar senha


def test_password_change_explains_the_policy_and_refuses_each_problem(app):
    at = _open(log_in(app(), "100002"), "pages/change_password.py")
    assert any("últimas 3 senhas" in m.value for m in at.markdown)
    by_label(at.text_input, "Senha atual *").input("Errada@2026")
    by_label(at.text_input, "Nova senha *").input("curta")
    by_label(at.text_input, "Confirme a nova senha *").input("outra")
    at.get("form_submit_button")[0].click().run()
    errors = " ".join(_errors(at))
    assert "A senha atual não confere" in errors
    assert "pelo menos 8 caracteres" in errors
    assert "A confirmação não é igual" in errors

    by_label(at.text_input, "Senha atual *").input("Sorriso@2026")
    by_label(at.text_input, "Nova senha *").input("Sorriso@2026")
    by_label(at.text_input, "Confirme a nova senha *").input("Sorriso@2026")
    at.get("form_submit_button")[0].click().run()
    assert any("últimas 3 senhas" in e for e in _errors(at))


def test_changing_the_password_ends_the_users_other_sessions_but_not_this_one(app):
    other = log_in(app(), "100002")
    assert other.title[0].value == "Página inicial"
    at = _open(log_in(app(), "100002"), "pages/change_password.py")
    by_label(at.text_input, "Senha atual *").input("Sorriso@2026")
    by_label(at.text_input, "Nova senha *").input(NEW_PASSWORD)
    by_label(at.text_input, "Confirme a nova senha *").input(NEW_PASSWORD)
    at.get("form_submit_button")[0].click().run()
    assert not at.exception, at.exception
    assert any("Senha alterada" in s.value for s in at.success)
    at.run()
    assert at.title[0].value == "Alterar senha"  # this session goes on

    other.run()  # the other session's next step
    assert other.title[0].value == "Portal Empresa"
    assert any(SESSION_ENDED_MESSAGE in w.value for w in other.warning)
    assert log_in(app(), "100002", NEW_PASSWORD).title[0].value == "Página inicial"
    assert _errors(log_in(app(), "100002", "Sorriso@2026"))


# ---------------------------------------------------------------- Planos contratados


def test_contracted_plans_show_ans_coverage_prices_and_beneficiaries(app, portal_db):
    at = _open(log_in(app(), "100002"), "pages/plans.py")
    assert at.title[0].value == "Planos contratados"
    labels = [m.label for m in at.metric]
    assert "Registro ANS" in labels and "Beneficiários ativos" in labels
    table = at.dataframe[0].value
    assert list(table.columns) == ["Faixa", "Idade", "Mensalidade"]
    assert len(table) == 10  # the ANS age bands (RN 63/2003)
    assert table["Mensalidade"].iloc[0].startswith("R$")
    assert any("Cobertura" in m.value for m in at.markdown)

    factory = make_session_factory(make_engine(portal_db))
    actor = access.actor_for_user(uow=UnitOfWork(factory), user_code="100001")
    assert actor is not None
    plans = companies.company_plans(
        uow=UnitOfWork(factory).for_company(actor.home_company_id or 0),
        actor=actor,
        today=__import__("datetime").date.today(),
    )
    assert sum(p.active_beneficiaries for p in plans) > 0
    pdf = general_conditions_pdf(plans[0], "10001 · Teste")
    assert pdf.startswith(b"%PDF") and len(pdf) > 1500


# ---------------------------------------------------------------- Usuários


def test_the_users_area_is_for_administrators_only(app):
    at = log_in(app(), "100002")
    actor = at.session_state["actor"]
    assert "Usuários" not in [p.title for p in pages_for(actor)]
    assert "Trilha de auditoria" not in [p.title for p in pages_for(actor)]
    # Pages a user may not see are not registered for its session at all.
    for page in ("pages/users_admin.py", "pages/audit_trail.py"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page)


def test_master_adds_a_user_who_gets_an_invitation_and_appears_pending(app, portal_db):
    at = _open(log_in(app(), "100001"), "pages/users_admin.py")
    assert at.title[0].value == "Usuários"
    listed = at.dataframe[0].value
    assert {"100001", "100002"} <= set(listed["Código"])
    # The master holds the personal data permission: CPFs in full.
    assert listed["CPF"].str.fullmatch(r"\d{3}\.\d{3}\.\d{3}-\d{2}").all()

    by_label(at.text_input, "Nome completo *").input("Joana")
    by_label(at.text_input, "CPF *").input("111.111.111-11")
    by_label(at.text_input, "E-mail *").input("joana@")
    at.get("form_submit_button")[0].click().run()
    errors = " ".join(_errors(at))
    assert "nome completo" in errors and "CPF inválido" in errors and "E-mail inválido" in errors

    by_label(at.text_input, "Nome completo *").input("Joana Ribeiro Lima")
    by_label(at.text_input, "CPF *").input("529.982.247-25")
    by_label(at.text_input, "E-mail *").input("joana.lima@horizontelog.com.br")
    by_label(at.checkbox, "Relatórios").check()
    at.get("form_submit_button")[0].click().run()
    assert not _errors(at), _errors(at)
    done = " ".join(s.value for s in at.success)
    code = next(
        u.user_code
        for u in _rows(
            portal_db, select(User.user_code).where(User.email == "joana.lima@horizontelog.com.br")
        )
    )
    assert code in done
    listed = at.dataframe[0].value
    row = listed[listed["Código"] == code].iloc[0]
    assert row["Situação"] == "Aguardando primeiro acesso"
    assert row["Permissões"] == "Relatórios"
    mail = _rows(
        portal_db,
        select(OutboxEmail.subject, OutboxEmail.body).where(
            OutboxEmail.to_address == "joana.lima@horizontelog.com.br"
        ),
    )
    assert mail and code in mail[0][1] and "/?convite=" in mail[0][1]


def test_inactivating_a_user_ends_its_session_and_refuses_its_login(app):
    victim = log_in(app(), "100002")
    assert victim.title[0].value == "Página inicial"
    at = _open(log_in(app(), "100001"), "pages/users_admin.py")
    pick = by_label(at.selectbox, "Usuário")
    pick.select(next(o for o in pick.options if o.startswith("100002"))).run()
    assert by_label(at.button, "Inativar usuário").disabled  # needs the confirmation
    by_label(
        at.checkbox, "Confirmo a inativação do usuário 100002 · Rafael Nogueira Campos"
    ).check().run()
    by_label(at.button, "Inativar usuário").click().run()
    assert any("inativado" in s.value for s in at.success)

    victim.run()
    assert victim.title[0].value == "Portal Empresa"
    assert any(SESSION_ENDED_MESSAGE in w.value for w in victim.warning)
    assert _errors(log_in(app(), "100002"))

    # The master cannot inactivate itself: the page says why and offers no inactivation
    # (the service refuses it too, see tests/services/test_user_permissions.py).
    pick = by_label(at.selectbox, "Usuário")
    pick.select(next(o for o in pick.options if o.startswith("100001"))).run()
    assert any("inativar o seu próprio usuário" in i.value for i in at.info)
    confirm = next(c for c in at.checkbox if c.label.startswith("Confirmo a inativação"))
    assert confirm.disabled
    assert by_label(at.button, "Inativar usuário").disabled


def test_a_user_administrator_grants_only_what_it_holds_and_leaves_masters_alone(app, portal_db):
    engine = make_engine(portal_db)
    with engine.begin() as conn:
        conn.execute(
            update(User)
            .where(User.user_code == "100002")
            .values(permissions=["movements", "user_admin"])
        )
    engine.dispose()
    at = _open(log_in(app(), "100002"), "pages/users_admin.py")
    held = {PERMISSION_LABELS[Permission.MOVEMENTS], PERMISSION_LABELS[Permission.USER_ADMIN]}
    boxes = {c.label: c for c in at.checkbox if c.key.startswith("user_add_")}
    assert boxes and {label for label, c in boxes.items() if not c.disabled} == held
    assert not any("master" in c.label.lower() for c in at.checkbox)
    pick = by_label(at.selectbox, "Usuário")
    pick.select(next(o for o in pick.options if o.startswith("100001"))).run()
    assert any("altera um master" in i.value for i in at.info)
    assert by_label(at.button, "Salvar alterações").disabled


# ---------------------------------------------------------------- Trilha de auditoria


def test_audit_trail_lists_changes_with_before_and_after(app):
    at = _open(log_in(app(), "100001"), "pages/company_data.py")
    by_label(at.text_input, "Nome do contato *").input("Fulana de Tal Souza")
    at.get("form_submit_button")[0].click().run()
    at = _open(at, "pages/audit_trail.py")
    assert at.title[0].value == "Trilha de auditoria"
    table = at.dataframe[0].value
    assert list(table.columns) == ["Quando", "Usuário", "Ação", "Registro", "Antes", "Depois"]
    first = table.iloc[0]
    assert first["Ação"] == "Dados da empresa alterados"
    assert first["Usuário"].startswith("100001 · ")
    assert "Fulana de Tal Souza" in first["Depois"]
    everything = len(table)
    by_label(at.multiselect, "Ação").select("company_contact_update").run()
    filtered = at.dataframe[0].value
    assert 1 <= len(filtered) < everything
    assert set(filtered["Ação"]) == {"Dados da empresa alterados"}
    assert [d.label for d in at.get("download_button")] == ["Baixar Excel", "Baixar CSV"]
    by_label(at.text_input, "Código do usuário").input("100002").run()
    assert any("Nenhum registro" in i.value for i in at.info)


def test_account_manager_sees_the_audit_trail_of_a_portfolio_company(app):
    at = _open(log_in(app(), "900001"), "pages/audit_trail.py")
    assert at.title[0].value == "Trilha de auditoria"
    assert not _errors(at)


# ---------------------------------------------------------------- Pedidos LGPD


def test_account_manager_answers_an_access_request_and_sees_who_accessed(app, portal_db):
    from data.models import Beneficiary, PersonalDataAccess

    cpf, card = _rows(
        portal_db,
        select(Beneficiary.cpf, Beneficiary.card_number)
        .join(Company, Company.id == Beneficiary.company_id)
        .where(Company.code == "10001", Beneficiary.cpf.is_not(None))
        .order_by(Beneficiary.id)
        .limit(1),
    )[0]
    master = log_in(app(), "100001")
    assert "Pedidos LGPD" not in [p.title for p in pages_for(master.session_state["actor"])]

    at = _open(log_in(app(), "900001"), "pages/lgpd_request.py")
    assert at.title[0].value == "Pedidos LGPD"
    by_label(at.text_input, "CPF ou carteirinha do beneficiário *").input("123")
    at.get("form_submit_button")[0].click().run()
    assert any("CPF (11 dígitos)" in e for e in _errors(at))

    by_label(at.text_input, "CPF ou carteirinha do beneficiário *").input(
        f"{cpf[:3]}.{cpf[3:6]}.{cpf[6:9]}-{cpf[9:]}"
    )
    at.get("form_submit_button")[0].click().run()
    assert not _errors(at), _errors(at)
    assert any("Relatório de" in s.value for s in at.success)
    assert [d.label for d in at.get("download_button")] == [
        "Baixar JSON (completo)",
        "Baixar Excel",
    ]
    titles = [e.label for e in at.expander]
    assert titles[0].startswith("Cadastro (1)")
    assert any(t.startswith("Movimentações") for t in titles)
    recorded = _rows(portal_db, select(PersonalDataAccess.purpose, PersonalDataAccess.detail))
    wanted = ("lgpd", "Relatório completo do titular (pedido de acesso)")
    assert wanted in [tuple(r) for r in recorded]
    assert card  # reachable by card number too (service tests)
