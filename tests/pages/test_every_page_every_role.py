"""Every page opens for every role that may use it, and no other role reaches it.

One AppTest session per role over one seeded demo database for the module. The
expectations below are written out here, not read from components/navigation.py,
so a page that moves to the wrong menu fails this test.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from components.errors import GENERIC
from components.navigation import PAGES as MENU
from config import get_settings
from data.db import make_engine
from data.models import User
from services.actors import Permission
from tests.pages.conftest import log_in

ROOT = Path(__file__).resolve().parents[2]
P = Permission

EVERYONE = "everyone"  # every logged-in user
MASTERS = "masters"  # company masters and account managers, not company users
MANAGER = "manager"  # account managers only


@dataclass(frozen=True)
class Screen:
    path: str
    title: str
    who: str = EVERYONE
    permission: Permission | None = None


# Every page a logged-in user may be offered: who reaches it, and the title it shows.
SCREENS = [
    Screen("pages/home.py", "Página inicial"),
    Screen("pages/notices.py", "Avisos"),
    Screen("pages/company_data.py", "Meus dados"),
    Screen("pages/plans.py", "Planos contratados"),
    Screen("pages/change_password.py", "Alterar senha"),
    Screen("pages/outbox.py", "Caixa de saída"),  # the demo's outbox (PORTAL_SHOW_OUTBOX)
    Screen("pages/users_admin.py", "Usuários", permission=P.USER_ADMIN),
    Screen("pages/cost_centres.py", "Centros de custo", permission=P.MOVEMENTS),
    Screen("pages/audit_trail.py", "Trilha de auditoria", MASTERS),
    Screen("pages/price_tables.py", "Tabelas de preço", MANAGER),
    Screen("pages/lgpd_request.py", "Pedidos LGPD", MANAGER),
    # Every logged-in user opens it; the page says which documents the permissions allow.
    Screen("pages/documents.py", "Documentos"),
    Screen("pages/operator_settings.py", "Configurações do operador", MANAGER),
    Screen("pages/movements_individual.py", "Cadastro individual", permission=P.MOVEMENTS),
    Screen("pages/movements_retroactive.py", "Cadastro retroativo", permission=P.MOVEMENTS),
    Screen("pages/batch_start.py", "Cadastro em lote", permission=P.MOVEMENTS),
    Screen("pages/batch_track.py", "Acompanhar lotes", permission=P.MOVEMENTS),
    Screen("pages/roster.py", "Conciliação de folha", permission=P.MOVEMENTS),
    Screen("pages/support_files.py", "Arquivos de apoio", permission=P.MOVEMENTS),
    Screen("pages/invoices.py", "Faturas", permission=P.FINANCE),
    Screen("pages/boleto.py", "2ª via de boleto", permission=P.FINANCE),
    Screen("pages/overdue_update.py", "Atualização de faturas vencidas", permission=P.FINANCE),
    Screen("pages/payment_status.py", "Situação de pagamentos", permission=P.FINANCE),
    Screen("pages/billing_reports.py", "Relatórios de faturamento", permission=P.FINANCE),
    Screen("pages/billing_run.py", "Faturamento mensal", MANAGER, P.FINANCE),
    Screen("pages/bank_files.py", "Arquivos bancários", MANAGER, P.FINANCE),
    Screen("pages/protocols.py", "Protocolos", permission=P.PROTOCOLS),
    Screen("pages/report_active.py", "Beneficiários ativos", permission=P.REPORTS),
    Screen("pages/report_inactive.py", "Beneficiários inativos", permission=P.REPORTS),
    Screen("pages/report_ageing.py", "Perda de elegibilidade", permission=P.REPORTS),
    Screen("pages/report_utilization.py", "Utilização", permission=P.REPORTS),
    Screen("pages/portfolio_analysis.py", "Análise da carteira", MANAGER, P.REPORTS),
]

# The pages of a visitor who has not logged in: (path, title, query parameters).
PUBLIC = [
    ("pages/login.py", "Portal Empresa", {}),
    ("pages/first_access.py", "Meu primeiro acesso", {}),
    ("pages/forgot_password.py", "Esqueci minha senha", {}),
    ("pages/forgot_user.py", "Esqueci meu usuário", {}),
    # Public, and also in the logged-in menu (not a Screen: a visitor reaches it too).
    ("pages/validate_document.py", "Validar documento", {}),
    # Opened only from an e-mailed link; a made-up token still shows the form's page.
    ("pages/reset_password.py", "Redefinir senha", {"reset": "nao-existe"}),
    ("pages/access_link.py", "Ativar acesso", {"ativar": "nao-existe"}),
]


@dataclass(frozen=True)
class Role:
    user_code: str
    kind: str  # "manager", "master" or "user"
    permissions: frozenset[Permission]
    # False: open only the pages of its permissions; the pages every user has are
    # opened by the other roles, and here only checked to be in the menu (fast).
    opens_common_pages: bool = True

    def reaches(self, screen: Screen) -> bool:
        if screen.who == MANAGER and self.kind != "manager":
            return False
        if screen.who == MASTERS and self.kind == "user":
            return False
        return screen.permission is None or screen.permission in self.permissions


ALL = frozenset(Permission)
# The demo's account manager and master, and company users added below: one with every
# permission, one with none, and one with each permission alone.
ROLES = {
    "account manager": Role("900001", "manager", ALL),
    "company master": Role("100001", "master", ALL),
    "user with every permission": Role("100090", "user", ALL),
    "user with no permission": Role("100091", "user", frozenset()),
} | {
    f"user with only {p.value}": Role(str(100092 + i), "user", frozenset({p}), False)
    for i, p in enumerate(Permission)
}


@pytest.fixture(scope="module")
def roles_db(seeded_db_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The seeded demo with the extra company users of ROLES; the app points at it."""
    path = tmp_path_factory.mktemp("every-page") / "portal.db"
    shutil.copy(seeded_db_file, path)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    with Session(engine) as session:
        master = session.scalars(select(User).where(User.user_code == "100001")).one()
        for role in ROLES.values():
            if role.kind != "user":
                continue
            session.add(
                User(
                    user_code=role.user_code,
                    name=f"Usuário {role.user_code}",
                    email=f"u{role.user_code}@example.com",
                    role="user",
                    permissions=sorted(p.value for p in role.permissions),
                    company_id=master.company_id,
                    status="active",
                    password_hash=master.password_hash,
                    failed_attempts=0,
                    created_at=master.created_at,
                )
            )
        session.commit()
    engine.dispose()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PORTAL_DATABASE_URL", url)
        patch.setenv("PORTAL_SHOW_OUTBOX", "true")
        get_settings.cache_clear()
        yield url
    get_settings.cache_clear()


def _new_session(**query_params: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.query_params.update(query_params)
    return at.run()


def _assert_rendered(at: AppTest, title: str, where: str) -> None:
    assert not at.exception, f"{where}: {at.exception}"
    assert title in [t.value for t in at.title], f"{where}: titles {[t.value for t in at.title]}"
    assert GENERIC not in [e.value for e in at.error], f"{where}: the unexpected-error message"


def test_the_tables_name_every_page_of_the_menu_and_of_the_folder():
    listed = {s.path for s in SCREENS} | {path for path, _, _ in PUBLIC}
    assert {p.path for p in MENU} <= listed
    assert {f"pages/{f.name}" for f in (ROOT / "pages").glob("*.py")} - {
        "pages/__init__.py"
    } == listed


def test_a_visitor_opens_every_public_page_and_no_other(roles_db: str):
    at = _new_session()
    for path, title, params in PUBLIC:
        if params:  # a link's page: a new visit from the e-mailed address
            _assert_rendered(_new_session(**params), title, path)
        else:
            _assert_rendered(at.switch_page(path).run(), title, path)
    for screen in SCREENS:
        with pytest.raises(ValueError):  # AppTest: not a page of this session's navigation
            at.switch_page(screen.path)


@pytest.mark.parametrize("name", list(ROLES))
def test_every_page_opens_for_the_roles_that_may_use_it_and_no_other(roles_db: str, name: str):
    role = ROLES[name]
    at = log_in(_new_session(), role.user_code)
    _assert_rendered(at, "Página inicial", f"{name}: login")
    for screen in SCREENS:
        where = f"{name}: {screen.path}"
        if role.reaches(screen):
            try:
                at.switch_page(screen.path)
            except ValueError:  # AppTest: no such page in this session's navigation
                pytest.fail(f"{where}: not in the menu")
            if role.opens_common_pages or screen.permission is not None:
                at.run()
                _assert_rendered(at, screen.title, where)
            continue
        try:
            at.switch_page(screen.path)
        except ValueError:
            continue  # not in this user's menu: Streamlit has no such page for them
        at.run()  # offered anyway: the page itself must refuse, in Portuguese
        assert not at.exception, f"{where}: {at.exception}"
        assert screen.title not in [t.value for t in at.title], f"{where}: opened"
        assert any("permissão" in e.value for e in at.error), f"{where}: no refusal"
