"""Início > Página inicial: important dates and shortcuts first, then the provider network
search. The sidebar is the menu: no copy of it here."""

import streamlit as st

from components import exclusion_widgets, navigation, provider_map
from components.clock import today_local
from components.context import get_context, new_uow, now_utc
from components.safe_text import plain
from services import home
from services.actors import Permission
from services.movements import coverage
from services.rules.formats import format_date, format_money, format_month, format_weekday

OVERDUE_PAGE = "pages/overdue_update.py"
OVERDUE_KEY = "overdue_invoice"  # the invoice selectbox of the overdue update page
OVERDUE_SHOWN = 3
AGEING_SHOWN = 10
SCHEDULED_SHOWN = 10
AGEING_PAGE = "pages/report_ageing.py"
NETWORK_VIEW_KEY = "net_view"  # the provider search's Lista / Mapa tabs
ALL = "Todas"

ctx = get_context()
today = today_local()
st.title("Página inicial")
st.caption(
    f"{plain(ctx.company.label)} · {ctx.company.document_type} {ctx.company.document_formatted}"
)

dates = home.important_dates(uow=ctx.uow(), actor=ctx.actor, today=today)
dates_col, shortcut_col = st.columns([5, 2])
with dates_col:
    st.subheader("Datas importantes")
    c1, c2, c3 = st.columns(3)
    c1.metric(
        "Data de corte deste mês",
        format_date(dates.cutoff),
        help=f"Dia {dates.cutoff_day} do contrato. Movimentações recebidas até a data de corte "
        "entram na fatura do mês seguinte; depois dela, na fatura subsequente.",
    )
    if dates.cutoff_moved_to:
        why = format_weekday(dates.cutoff)
        if dates.cutoff_holiday:
            why += f", feriado: {dates.cutoff_holiday}"
        c1.caption(
            f"Data de corte: {format_date(dates.cutoff)} ({why}) → movimentações até "
            f"{format_date(dates.cutoff_moved_to)} ({format_weekday(dates.cutoff_moved_to)}), "
            "o dia útil anterior."
        )
    if dates.cutoff_passed:
        c1.caption("Já passou")
    elif not dates.cutoff_moved_to:
        c1.caption(format_weekday(dates.cutoff).capitalize())
    c2.metric(
        "Próximo vencimento de fatura", format_date(dates.next_open_invoice_due or dates.next_due)
    )
    if dates.overdue_invoices:
        c2.caption(f"⚠️ {dates.overdue_invoices} fatura(s) vencida(s) em aberto")
    else:
        c2.caption(f"{dates.open_invoices} fatura(s) em aberto")
    c3.markdown("**Datas retroativas abertas hoje**")
    c3.markdown("  \n".join(f"• {format_date(d)}" for d in dates.retroactive_dates))
    # Only users with the finance permission get the list (and the page it links to).
    for item in dates.overdue[:OVERDUE_SHOWN]:
        if st.button(
            f"Atualizar a fatura de {format_month(item.billing_month)}, vencida em "
            f"{format_date(item.due_date)} ({format_money(item.amount)})",
            key=f"home_overdue_{item.invoice_id}",
            icon=":material/update:",
            type="tertiary",
            help="Abre Financeiro > Atualização de faturas vencidas com esta fatura.",
        ):
            st.session_state[OVERDUE_KEY] = item.invoice_id
            st.switch_page(OVERDUE_PAGE)
    if len(dates.overdue) > OVERDUE_SHOWN:
        st.page_link(
            OVERDUE_PAGE,
            label=f"Ver as {len(dates.overdue)} faturas vencidas",
            icon=":material/update:",
        )
with shortcut_col:
    st.subheader("Atalhos")
    shortcuts = navigation.shortcuts_for(ctx.actor)
    if not shortcuts:
        st.caption("Os atalhos aparecem aqui conforme as áreas do portal ficam disponíveis.")
    for spec in shortcuts:
        st.page_link(spec.path, label=spec.shortcut or spec.title, icon=spec.icon)

if dates.protocols_due:
    st.markdown("**Protocolos com prazo nos próximos dias**")
    st.dataframe(
        [
            {
                "Protocolo": p.number,
                "Assunto": p.subject,
                "Situação": p.status_label,
                "Prazo": format_date(p.deadline),
                "Alerta": "⚠️ vencido" if p.deadline < today else "",
            }
            for p in dates.protocols_due
        ],
        hide_index=True,
        width="stretch",
    )
else:
    st.caption("Nenhum protocolo com prazo nos próximos dias.")

exclusion_widgets.ageing_list(
    ctx,
    dates.ageing[:AGEING_SHOWN],
    today=today,
    key="home",
    title="Dependentes que perdem a elegibilidade por idade nos próximos 60 dias",
)
if dates.ageing and any(p.path == AGEING_PAGE for p in navigation.pages_for(ctx.actor)):
    st.page_link(
        AGEING_PAGE,
        label=f"Ver o relatório ({len(dates.ageing)} dependente(s))",
        icon=":material/event_busy:",
    )

if ctx.can(Permission.MOVEMENTS):
    scheduled = coverage.scheduled_list(uow=ctx.uow(), actor=ctx.actor, now=now_utc())
    if scheduled:
        st.markdown(f"**Movimentações agendadas ({len(scheduled)})**")
        st.dataframe(
            [
                {
                    "Data": format_date(item.effective_date),
                    "Movimentação": item.label,
                    "Beneficiários": ", ".join(name for name, _card in item.beneficiaries),
                    "Protocolo": item.protocol_number,
                }
                for item in scheduled[:SCHEDULED_SHOWN]
            ],
            hide_index=True,
            width="stretch",
        )
        st.caption("Para cancelar uma delas: Cadastro individual, aba Agendadas.")


@st.fragment
def network_search() -> None:
    """The provider search reruns alone: a filter change redraws only this part, and the
    map (thousands of outline points) is built and drawn only once its tab is opened."""
    st.subheader("Busca de rede")
    options = home.provider_filter_options(uow=new_uow())
    f1, f2, f3 = st.columns(3)
    specialty = f1.selectbox("Especialidade", [ALL, *options.specialties], key="net_specialty")
    state = f2.selectbox("Estado (UF)", [ALL, *options.states], key="net_state")
    cities = options.cities.get(state, []) if state != ALL else []
    city = f3.selectbox("Cidade", [ALL, *cities], key="net_city", disabled=state == ALL)
    f4, f5 = st.columns(2)
    hoods = options.neighbourhoods.get((state, city), []) if city != ALL else []
    hood = f4.selectbox("Bairro", [ALL, *hoods], key="net_hood", disabled=city == ALL)
    name = f5.text_input("Nome do dentista ou clínica", key="net_name")
    found = home.provider_search(
        uow=new_uow(),
        specialty=None if specialty == ALL else specialty,
        state=None if state == ALL else state,
        city=None if city == ALL else city,
        neighbourhood=None if hood == ALL else hood,
        name=name,
    )
    if found.empty:
        st.info("Nenhum prestador encontrado com esses filtros. Tente tirar algum filtro.")
        return
    st.caption(f"{len(found)} prestador(es) encontrado(s)")
    list_tab, map_tab = st.tabs(["Lista", "Mapa"], key=NETWORK_VIEW_KEY, on_change="rerun")
    if list_tab.open:
        with list_tab:
            st.dataframe(
                found.drop(columns=["latitude", "longitude"]), hide_index=True, width="stretch"
            )
    if map_tab.open:
        with map_tab:
            provider_map.provider_map(found)


network_search()
