"""The portal's areas and pages: one registry for the menu and the home shortcuts.

A page is listed only once its script exists (no menu entry for an area not built yet);
a user sees only what its permissions and role allow.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from services.actors import Actor, Permission, Role


@dataclass(frozen=True)
class PageSpec:
    path: str
    title: str
    icon: str
    url_path: str
    area: str
    permission: Permission | None = None
    shortcut: str | None = None  # label on the home page's "Atalhos"
    account_manager_only: bool = False
    masters_and_managers_only: bool = False

    @property
    def built(self) -> bool:
        return (ROOT / self.path).exists()


ROOT = Path(__file__).resolve().parents[1]
MOV = "Movimentação cadastral"
FIN = "Financeiro"
REP = "Relatórios"
CO = "Empresa"
P = Permission


PAGES: list[PageSpec] = [
    PageSpec("pages/home.py", "Página inicial", ":material/home:", "inicio", "Início"),
    PageSpec("pages/notices.py", "Avisos", ":material/notifications:", "avisos", "Início"),
    PageSpec("pages/company_data.py", "Meus dados", ":material/domain:", "meus-dados", CO),
    PageSpec(
        "pages/plans.py",
        "Planos contratados",
        ":material/medical_services:",
        "planos-contratados",
        CO,
    ),
    PageSpec(
        "pages/users_admin.py",
        "Usuários",
        ":material/manage_accounts:",
        "usuarios",
        CO,
        P.USER_ADMIN,
        "Administrar usuários",
    ),
    PageSpec(
        "pages/cost_centres.py",
        "Centros de custo",
        ":material/account_tree:",
        "centros-de-custo",
        CO,
        P.MOVEMENTS,
    ),
    PageSpec(
        "pages/audit_trail.py",
        "Trilha de auditoria",
        ":material/policy:",
        "auditoria",
        CO,
        masters_and_managers_only=True,
    ),
    PageSpec(
        "pages/price_tables.py",
        "Tabelas de preço",
        ":material/price_change:",
        "tabelas-de-preco",
        CO,
        account_manager_only=True,
    ),
    PageSpec(
        "pages/lgpd_request.py",
        "Pedidos LGPD",
        ":material/shield_person:",
        "pedidos-lgpd",
        CO,
        account_manager_only=True,
    ),
    PageSpec("pages/documents.py", "Documentos", ":material/description:", "documentos", CO),
    PageSpec(
        "pages/validate_document.py",
        "Validar documento",
        ":material/verified:",
        "validar-documento",
        CO,
    ),
    PageSpec(
        "pages/change_password.py", "Alterar senha", ":material/password:", "alterar-senha", CO
    ),
    PageSpec(
        "pages/movements_individual.py",
        "Cadastro individual",
        ":material/person_add:",
        "cadastro-individual",
        MOV,
        P.MOVEMENTS,
        "Incluir beneficiário",
    ),
    PageSpec(
        "pages/movements_retroactive.py",
        "Cadastro retroativo",
        ":material/history:",
        "cadastro-retroativo",
        MOV,
        P.MOVEMENTS,
    ),
    PageSpec(
        "pages/batch_start.py",
        "Cadastro em lote",
        ":material/upload_file:",
        "cadastro-em-lote",
        MOV,
        P.MOVEMENTS,
        "Enviar arquivo de movimentação",
    ),
    PageSpec(
        "pages/batch_track.py",
        "Acompanhar lotes",
        ":material/fact_check:",
        "acompanhar-lotes",
        MOV,
        P.MOVEMENTS,
    ),
    PageSpec(
        "pages/roster.py",
        "Conciliação de folha",
        ":material/compare_arrows:",
        "conciliacao-de-folha",
        MOV,
        P.MOVEMENTS,
    ),
    PageSpec(
        "pages/support_files.py",
        "Arquivos de apoio",
        ":material/folder_open:",
        "arquivos-de-apoio",
        MOV,
        P.MOVEMENTS,
    ),
    PageSpec("pages/invoices.py", "Faturas", ":material/receipt_long:", "faturas", FIN, P.FINANCE),
    PageSpec(
        "pages/boleto.py",
        "2ª via de boleto",
        ":material/barcode:",
        "segunda-via",
        FIN,
        P.FINANCE,
        "2ª via de boleto",
    ),
    PageSpec(
        "pages/overdue_update.py",
        "Atualização de faturas vencidas",
        ":material/update:",
        "faturas-vencidas",
        FIN,
        P.FINANCE,
    ),
    PageSpec(
        "pages/payment_status.py",
        "Situação de pagamentos",
        ":material/payments:",
        "situacao-pagamentos",
        FIN,
        P.FINANCE,
    ),
    PageSpec(
        "pages/billing_reports.py",
        "Relatórios de faturamento",
        ":material/bar_chart:",
        "relatorios-faturamento",
        FIN,
        P.FINANCE,
    ),
    PageSpec(
        "pages/billing_run.py",
        "Faturamento mensal",
        ":material/calculate:",
        "faturamento-mensal",
        FIN,
        P.FINANCE,
        account_manager_only=True,
    ),
    PageSpec(
        "pages/bank_files.py",
        "Arquivos bancários",
        ":material/account_balance:",
        "arquivos-bancarios",
        FIN,
        P.FINANCE,
        account_manager_only=True,
    ),
    PageSpec(
        "pages/operator_settings.py",
        "Configurações do operador",
        ":material/settings:",
        "configuracoes-operador",
        FIN,
        account_manager_only=True,
    ),
    PageSpec(
        "pages/protocols.py",
        "Protocolos",
        ":material/confirmation_number:",
        "protocolos",
        "Protocolos",
        P.PROTOCOLS,
    ),
    PageSpec(
        "pages/report_active.py",
        "Beneficiários ativos",
        ":material/groups:",
        "beneficiarios-ativos",
        REP,
        P.REPORTS,
        "Relatório de ativos",
    ),
    PageSpec(
        "pages/report_inactive.py",
        "Beneficiários inativos",
        ":material/group_off:",
        "beneficiarios-inativos",
        REP,
        P.REPORTS,
    ),
    PageSpec(
        "pages/report_ageing.py",
        "Perda de elegibilidade",
        ":material/event_busy:",
        "perda-elegibilidade",
        REP,
        P.REPORTS,
    ),
    PageSpec(
        "pages/report_utilization.py",
        "Utilização",
        ":material/monitoring:",
        "utilizacao",
        REP,
        P.REPORTS,
    ),
    PageSpec(
        "pages/portfolio_analysis.py",
        "Análise da carteira",
        ":material/query_stats:",
        "analise-carteira",
        REP,
        P.REPORTS,
        account_manager_only=True,
    ),
]


def pages_for(actor: Actor) -> list[PageSpec]:
    return [
        p
        for p in PAGES
        if p.built
        and (p.permission is None or actor.can(p.permission))
        and (not p.account_manager_only or actor.is_account_manager)
        and (not p.masters_and_managers_only or actor.role is not Role.USER)
    ]


def shortcuts_for(actor: Actor) -> list[PageSpec]:
    return [p for p in pages_for(actor) if p.shortcut]
