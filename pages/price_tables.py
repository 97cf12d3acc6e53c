"""Empresa > Tabelas de preço (account managers): the contract's price tables with their
history, a new table (by age band or single price), the readjustment on the contract's
anniversary, the pool's readjustment (contracts under 30 lives) and the band change rule."""

import pandas as pd
import streamlit as st

from components.clock import today_local
from components.context import get_context, now_utc
from components.errors import user_errors
from components.safe_text import plain
from services.billing import prices
from services.rules.age_bands import AGE_BANDS, age_band_label
from services.rules.formats import (
    MONTHS,
    format_date,
    format_int,
    format_money,
    format_month,
    format_percent,
)
from services.rules.prices import (
    BAND_CHANGE_LABELS,
    TABLE_KIND_LABELS,
    anniversary_months,
    month_options,
    next_anniversary,
    parse_decimal,
)

FLASH = "price_tables_flash"

ctx = get_context()
if not ctx.actor.is_account_manager:
    st.error("Somente o gestor de contas mantém as tabelas de preço dos contratos.")
    st.stop()
st.title("Tabelas de preço")
st.caption(plain(ctx.company.label))
for kind, message in st.session_state.pop(FLASH, []):
    (st.success if kind == "ok" else st.warning)(plain(message))

today = today_local()
overview = None
with user_errors():
    overview = prices.price_tables_list(uow=ctx.uow(), actor=ctx.actor, today=today)
if overview is None:
    st.stop()


def _done(*messages: tuple[str, str]) -> None:
    st.session_state[FLASH] = list(messages)
    st.rerun()


def _price_frame(table: prices.PriceTableView) -> pd.DataFrame:
    if table.single:
        return pd.DataFrame({"Preço único": [format_money(table.prices[0])]})
    return pd.DataFrame(
        {
            "Faixa": [age_band_label(n) for n in range(1, len(table.prices) + 1)],
            "Mensalidade": [format_money(p) for p in table.prices],
        }
    )


c1, c2, c3, c4 = st.columns(4)
c1.metric("Início do contrato", format_date(overview.contract_start))
c2.metric("Mês de aniversário", MONTHS[overview.anniversary_month - 1])
c3.metric(
    "Vidas hoje",
    format_int(overview.lives),
    help="Pessoas cobertas hoje. Contratos com menos de 30 vidas são reajustados pelo "
    "percentual único do agrupamento (RN 565/2022).",
)
c4.metric("Mudança de faixa", overview.band_change_label)
if overview.pooled:
    st.info(
        "Este contrato tem menos de 30 vidas: faz parte do agrupamento de contratos e "
        "recebe o percentual único do agrupamento no mês de aniversário."
    )

tab_tables, tab_new, tab_readjust, tab_band = st.tabs(
    ["Tabelas", "Nova tabela", "Reajuste", "Mudança de faixa"]
)

with tab_tables:
    if not overview.plans:
        st.info("Esta empresa não tem planos contratados.")
    for plan in overview.plans:
        with st.container(border=True):
            st.subheader(plain(plan.label))
            current = plan.current
            if current is None:
                st.warning('Sem tabela vigente hoje: cadastre uma em "Nova tabela".')
            else:
                st.markdown(
                    f"**Tabela vigente** ({TABLE_KIND_LABELS[current.kind].lower()}) desde "
                    f"{format_date(current.valid_from)}"
                )
                st.dataframe(_price_frame(current), hide_index=True, width="stretch")
            if plan.tables:
                st.markdown("**Histórico**")
                st.dataframe(
                    pd.DataFrame(
                        {
                            "Vigente de": [format_date(t.valid_from) for t in plan.tables],
                            "Até": [format_date(t.valid_to) for t in plan.tables],
                            "Tipo": [TABLE_KIND_LABELS[t.kind] for t in plan.tables],
                            "Reajuste": [
                                format_percent(t.readjustment_pct)
                                if t.readjustment_pct is not None
                                else "—"
                                for t in plan.tables
                            ],
                            "Agrupamento": ["Sim" if t.pooled else "—" for t in plan.tables],
                        }
                    ),
                    hide_index=True,
                    width="stretch",
                )

with tab_new:
    if not overview.plans:
        st.info("Sem plano contratado: não há tabela a cadastrar.")
    else:
        chosen = st.selectbox(
            "Plano contratado",
            overview.plans,
            format_func=lambda p: plain(p.label),
            key="new_plan",
        )
        kind = st.radio(
            "Tipo de tabela",
            list(TABLE_KIND_LABELS),
            format_func=TABLE_KIND_LABELS.get,
            horizontal=True,
            key="new_kind",
            help="Preço único: um só valor para todas as idades, sem faixa etária.",
        )
        months = month_options(today, 12, 24)
        with st.form("new_table"):
            valid_from = st.selectbox(
                "Vigente a partir de",
                months,
                index=13,
                format_func=format_month,
                key="new_from",
            )
            if kind == "single":
                typed = [st.text_input("Preço único (R$)", key="new_single")]
            else:
                columns = st.columns(5)
                typed = [
                    columns[i % 5].text_input(
                        f"Faixa {age_band_label(i + 1)} (R$)", key=f"new_band_{i + 1}"
                    )
                    for i in range(len(AGE_BANDS))
                ]
            st.caption(
                "Tabelas por faixa etária seguem a RN 63/2003: a 10ª faixa até 6 vezes a 1ª "
                "e a variação acumulada da 7ª à 10ª faixa (10ª/7ª) não maior que a da 1ª à "
                "7ª (7ª/1ª). A tabela anterior termina no dia anterior."
            )
            save = st.form_submit_button("Salvar tabela", type="primary")
        if save:
            with user_errors():
                values = [parse_decimal(text, "prices", "Preço") for text in typed]
                saved = prices.price_table_save(
                    uow=ctx.uow(),
                    actor=ctx.actor,
                    contracted_plan_id=chosen.contracted_plan_id,
                    kind=kind,
                    prices=values,
                    valid_from=valid_from,
                    now=now_utc(),
                )
                _done(
                    (
                        "ok",
                        f"Tabela de {chosen.label} salva, vigente a partir de "
                        f"{format_date(saved.valid_from)}.",
                    )
                )

with tab_readjust:
    st.markdown("**Reajuste deste contrato**")
    options = anniversary_months(overview.contract_start, today)
    if not options:
        st.info("O contrato ainda não completou o primeiro ano: não há reajuste a aplicar.")
    else:
        with st.form("readjust_contract"):
            month = st.selectbox(
                "Mês de aniversário",
                options,
                format_func=format_month,
                key="contract_month",
                index=options.index(next_anniversary(overview.contract_start, today)),
            )
            pct_text = st.text_input("Percentual de reajuste (%)", key="contract_pct")
            apply_contract = st.form_submit_button("Aplicar reajuste ao contrato")
        if apply_contract:
            with user_errors():
                result = prices.readjust_contract(
                    uow=ctx.uow(),
                    actor=ctx.actor,
                    pct=parse_decimal(pct_text, "pct", "Percentual de reajuste"),
                    month=month,
                    now=now_utc(),
                )
                _done(
                    (
                        "ok",
                        f"Contrato {result.code} reajustado a partir de "
                        f"{format_month(month)}: {len(result.tables)} tabela(s) nova(s).",
                    )
                )

    st.divider()
    st.markdown("**Reajuste do agrupamento de contratos (menos de 30 vidas)**")
    st.caption(
        "Aplica um percentual único a todos os contratos da sua carteira com menos de 30 "
        "vidas no primeiro dia do mês escolhido e que fazem aniversário nesse mês "
        "(RN 565/2022)."
    )
    with st.form("readjust_pool"):
        pool_month = st.selectbox(
            "Mês",
            month_options(today, 12, 12),
            index=12,
            format_func=format_month,
            key="pool_month",
        )
        pool_text = st.text_input("Percentual do agrupamento (%)", key="pool_pct")
        apply_pool = st.form_submit_button("Aplicar ao agrupamento")
    if apply_pool:
        with user_errors():
            pool = prices.readjust_pool(
                uow=ctx.uow(),
                actor=ctx.actor,
                pct=parse_decimal(pool_text, "pct", "Percentual do agrupamento"),
                month=pool_month,
                now=now_utc(),
            )
            messages = [
                (
                    "ok",
                    f"Agrupamento de {format_month(pool.month)}: {len(pool.readjusted)} "
                    f"contrato(s) reajustado(s) em {format_percent(pool.pct)}: "
                    + (", ".join(f"{r.code} ({r.lives} vidas)" for r in pool.readjusted) or "—")
                    + ".",
                )
            ]
            messages += [("warn", f"{label}: {reason}") for label, reason in pool.skipped]
            _done(*messages)

with tab_band:
    rules = list(BAND_CHANGE_LABELS)
    with st.form("band_change"):
        rule = st.radio(
            "Quando muda a faixa etária",
            rules,
            format_func=BAND_CHANGE_LABELS.get,
            index=rules.index(overview.band_change),
            key="band_rule",
            help="Padrão: no mês seguinte ao aniversário. É uma condição do contrato.",
        )
        save_rule = st.form_submit_button("Salvar regra")
    if save_rule:
        with user_errors():
            prices.band_change_set(
                uow=ctx.uow(),
                actor=ctx.actor,
                rule=rule,
                now=now_utc(),
            )
            _done(("ok", f"Mudança de faixa: {BAND_CHANGE_LABELS[rule].lower()}."))
