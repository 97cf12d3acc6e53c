"""Início > Página inicial: menu, shortcuts, important dates, provider network search."""

import streamlit as st

from components import charts, navigation
from components.context import get_context, new_uow
from components.fmt import fmt_date, fmt_weekday, today_local
from services import home

ctx = get_context()
today = today_local()
st.title("Página inicial")
st.caption(f"{ctx.company.label} · {ctx.company.document_type} {ctx.company.document_formatted}")

menu_col, shortcut_col = st.columns(2)
with menu_col:
    st.subheader("Menu")
    for area, specs in navigation.areas_for(ctx.actor).items():
        st.markdown(f"**{area}**")
        for spec in specs:
            st.page_link(spec.path, label=spec.title, icon=spec.icon)
with shortcut_col:
    st.subheader("Atalhos")
    shortcuts = navigation.shortcuts_for(ctx.actor)
    if not shortcuts:
        st.caption("Os atalhos aparecem aqui conforme as áreas do portal ficam disponíveis.")
    for spec in shortcuts:
        st.page_link(spec.path, label=spec.shortcut or spec.title, icon=spec.icon)

st.subheader("Datas importantes")
dates = home.important_dates(uow=ctx.uow(), actor=ctx.actor, company_id=ctx.company_id, today=today)
c1, c2, c3 = st.columns(3)
c1.metric(
    "Data de corte deste mês",
    fmt_date(dates.cutoff),
    help=f"Dia {dates.cutoff_day} do contrato. Movimentações recebidas até a data de corte "
    "entram na fatura do mês seguinte; depois dela, na fatura subsequente.",
)
c1.caption(("Já passou" if dates.cutoff_passed else fmt_weekday(dates.cutoff)).capitalize())
c2.metric("Próximo vencimento de fatura", fmt_date(dates.next_open_invoice_due or dates.next_due))
if dates.overdue_invoices:
    c2.caption(f"⚠️ {dates.overdue_invoices} fatura(s) vencida(s) em aberto")
else:
    c2.caption(f"{dates.open_invoices} fatura(s) em aberto")
c3.markdown("**Datas retroativas abertas hoje**")
c3.markdown("  \n".join(f"• {fmt_date(d)}" for d in dates.retroactive_dates))
if dates.protocols_due:
    st.markdown("**Protocolos com prazo nos próximos dias**")
    st.dataframe(
        [
            {
                "Protocolo": p.number,
                "Assunto": p.subject,
                "Situação": p.status_label,
                "Prazo": fmt_date(p.deadline),
                "": "⚠️ vencido" if p.deadline < today else "",
            }
            for p in dates.protocols_due
        ],
        hide_index=True,
        width="stretch",
    )
else:
    st.caption("Nenhum protocolo com prazo nos próximos dias.")

st.subheader("Busca de rede")
options = home.provider_filter_options(uow=new_uow())
ALL = "Todas"
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
else:
    st.caption(f"{len(found)} prestador(es) encontrado(s)")
    list_tab, map_tab = st.tabs(["Lista", "Mapa"])
    with list_tab:
        st.dataframe(
            found.drop(columns=["latitude", "longitude"]), hide_index=True, width="stretch"
        )
    with map_tab:
        st.plotly_chart(charts.provider_map(found), width="stretch")
