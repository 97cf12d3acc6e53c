"""Movimentação cadastral > Conciliação de folha: upload the payroll roster, see who is on
it and not a beneficiary, who is a beneficiary and no longer on it (or dismissed), and
whose data differ; the chosen lines become a batch checked by the batch rules, applied
with the usual "Aplicar"."""

from typing import Any

import pandas as pd
import streamlit as st

from components import batch_widgets as bw
from components.context import get_context, now_utc
from components.errors import user_errors
from components.safe_text import plain
from services.actors import Permission
from services.batch.layout import MAX_BYTES, MAX_LINES
from services.jobs.stall import JobState
from services.roster import (
    EXCLUSION_REASON_LABELS,
    LABEL_OF_REASON,
    ChosenExclusion,
    RosterResult,
    roster_inclusion_file,
    roster_reconcile,
    roster_template,
    roster_to_batch,
)
from services.rules.formats import format_date, format_datetime, format_int

STATE = "roster_current"  # company, result (RosterResult), made (RosterBatch), queued
PICK = "Escolher"
LISTS = ("roster_in", "roster_out", "roster_up")  # the three lists' keys
REASON = "Motivo da exclusão"
CONTRIBUTED = "Contribuiu para o plano (arts. 30/31)"
REASON_LABELS = EXCLUSION_REASON_LABELS
LABEL_OF = LABEL_OF_REASON

ctx = get_context(Permission.MOVEMENTS)
st.title("Conciliação de folha")
st.caption(
    f"{plain(ctx.company.label)} · compare a folha de pagamento com os titulares do plano: "
    "quem está na folha e não é beneficiário, quem é beneficiário e saiu da folha (ou foi "
    "demitido) e quem tem dados diferentes. As linhas escolhidas viram um lote, conferido "
    "com as mesmas regras do Cadastro em lote."
)

c1, c2 = st.columns(2)
c1.download_button(
    "Baixar modelo da folha (xlsx)",
    data=roster_template,
    file_name="modelo_folha.xlsx",
    mime=bw.XLSX,
    on_click="ignore",
    icon=":material/download:",
    key="roster_template_xlsx",
)
c2.download_button(
    "Baixar modelo da folha (csv)",
    data=lambda: roster_template("csv"),
    file_name="modelo_folha.csv",
    mime="text/csv",
    on_click="ignore",
    icon=":material/download:",
    key="roster_template_csv",
)
st.caption(
    "Só a coluna CPF é obrigatória; nome, data_admissao, data_demissao e centro_custo são "
    "usadas quando existem (outras colunas da folha são ignoradas)."
)

nonce = st.session_state.get("roster_upload_nonce", 0)
uploaded = st.file_uploader(
    "Folha de pagamento (.xlsx ou .csv)",
    type=["xlsx", "csv"],
    key=f"roster_upload_{nonce}",
    help=f"Até {format_int(MAX_LINES)} linhas e {MAX_BYTES // (1024 * 1024)} MB por arquivo.",
)
if st.button("Conciliar", disabled=uploaded is None, type="primary", key="roster_check"):
    st.session_state.pop(STATE, None)
    for list_key in LISTS:  # a new reconciliation starts with nothing ticked
        st.session_state.pop(f"{list_key}_all", None)
    if uploaded is not None:
        with user_errors(), st.spinner("Comparando a folha com os titulares..."):
            reconciled = roster_reconcile(
                uow=ctx.uow(),
                actor=ctx.actor,
                file_name=uploaded.name,
                content=uploaded.getvalue(),
                now=now_utc(),
            )
            st.session_state[STATE] = {
                "company_id": ctx.company_id,
                "file_id": uploaded.file_id,
                "result": reconciled,
                "made": None,
                "queued": False,
            }

current = st.session_state.get(STATE)
if current is None or current["company_id"] != ctx.company_id:
    st.stop()
if uploaded is not None and current["made"] is None and uploaded.file_id != current["file_id"]:
    st.info("Outra folha escolhida: clique em **Conciliar** para ver as diferenças dela.")
    st.stop()
result: RosterResult = current["result"]


def _another() -> None:
    st.session_state.pop(STATE, None)
    st.session_state["roster_upload_nonce"] = nonce + 1


# ---------------------------------------------------------------- a batch was made

made = current["made"]
if made is not None:
    for chosen in made.individual:
        h = chosen.offer.holder
        st.warning(
            f"{plain(h.name)} (carteirinha {plain(h.card)}): o titular contribuiu para o plano "
            "e pode ter direito à permanência (arts. 30/31 da Lei 9.656). Faça esta exclusão em "
            "Cadastro individual > Exclusão, que registra a contribuição; ela não foi ao lote.",
            icon=":material/gavel:",
        )
    if made.individual:
        st.page_link(
            "pages/movements_individual.py", label="Cadastro individual", icon=":material/person:"
        )
    check = made.check
    if check is None:
        st.button("Conciliar outra folha", on_click=_another, key="roster_another_none")
        st.stop()
    b = check.batch
    if not current["queued"]:
        st.subheader(f"Lote {b.id} · {plain(b.file_name)}")
        bw.summary_metrics(b)
        bw.lines_table(check.lines, key="roster_batch_lines")
        bw.result_downloads(ctx, b.id, key="roster_batch_file")
        if b.accepted_lines == 0:
            st.error(
                "Nenhuma linha foi aceita: a mensagem de cada linha diz o que acertar "
                "(por exemplo, escolha o motivo da exclusão)."
            )
        else:
            confirmed = True
            dup = check.duplicate_of
            if dup is not None:
                st.warning(
                    f"Estas mesmas linhas já foram enviadas em {format_datetime(dup.received_at)} "
                    f"(lote {dup.id}, {dup.status_label.lower()}, por {plain(dup.user_name)}). "
                    "Aplicar de novo pode repetir movimentações: confira em Acompanhar lotes.",
                    icon=":material/content_copy:",
                )
                confirmed = st.checkbox("Enviar mesmo assim", key=f"roster_duplicate_ok_{b.id}")
            n = b.accepted_lines
            label = (
                "Aplicar 1 linha aceita" if n == 1 else f"Aplicar {format_int(n)} linhas aceitas"
            )
            if st.button(label, type="primary", disabled=not confirmed, key="roster_apply") and (
                bw.start_application(ctx, b.id) is not None
            ):
                current["queued"] = True
                st.rerun()
        st.button("Conciliar outra folha", on_click=_another, key="roster_another_check")
        st.stop()
    progress = bw.batch_progress(ctx, b.id)
    st.subheader(f"Lote {b.id} · {plain(b.file_name)}")
    if progress.state in bw.WAITING:
        bw.application_progress(ctx, b.id)
        st.stop()
    if progress.state is JobState.DONE:
        st.success(bw.applied_message(progress), icon=":material/task_alt:")
        bw.progress_metrics(progress)
        bw.result_downloads(ctx, b.id, key="roster_result_file")
    else:
        st.warning(
            "A aplicação deste lote foi interrompida: ela é retomada automaticamente em alguns "
            "minutos, ou agora em Acompanhar lotes.",
            icon=":material/pending_actions:",
        )
    st.page_link("pages/batch_track.py", label="Acompanhar lotes", icon=":material/list_alt:")
    st.button("Conciliar outra folha", on_click=_another, key="roster_another_done")
    st.stop()


# ---------------------------------------------------------------- the three lists

st.subheader(f"Conciliação · {plain(result.file_name)}")
m1, m2, m3, m4, m5 = st.columns(5)
m1.metric("Linhas da folha", format_int(result.lines))
m2.metric("Incluir", format_int(len(result.inclusions)))
m3.metric("Excluir", format_int(len(result.exclusions)))
m4.metric("Alterar", format_int(len(result.updates)))
m5.metric("Linhas com erro", format_int(len(result.errors)))
for text in result.reconciliation.left_out:
    st.caption(plain(text))
if result.ignored:
    st.caption("Colunas ignoradas: " + plain(", ".join(result.ignored)))
if result.errors:
    with st.expander(f"Linhas com erro ({format_int(len(result.errors))})"):
        st.dataframe(
            pd.DataFrame(
                {
                    "Linha": [e.line for e in result.errors],
                    "CPF como está na folha": [
                        e.value if result.full_cpf else ("***" if e.value else "")
                        for e in result.errors
                    ],
                    "Mensagem": [e.message for e in result.errors],
                }
            ),
            hide_index=True,
            width="stretch",
            key="roster_errors",
        )


def _mark_all(key: str) -> None:
    """ "Marcar todas" ticked or unticked: every line takes it, and what was typed in the
    list before (reasons, contribution, single ticks) is kept."""
    lists = st.session_state[STATE]["lists"]
    frame, n = lists[key]
    edits = (st.session_state.get(f"{key}_editor_{n}") or {}).get("edited_rows", {})
    for row, changes in edits.items():
        for column, value in changes.items():
            frame.loc[int(row), column] = value
    frame[PICK] = bool(st.session_state.get(f"{key}_all"))
    lists[key] = (frame, n + 1)  # a new editor over the updated list


def _editor(frame: pd.DataFrame, key: str, editable: list[str], config: dict[str, Any]) -> Any:
    """The list with a column to choose lines (and `editable` columns); kept for this
    reconciliation, so "Marcar todas" keeps what was typed."""
    lists = st.session_state[STATE].setdefault("lists", {})
    if key not in lists:
        frame.insert(0, PICK, False)
        lists[key] = (frame, 0)
    st.checkbox("Marcar todas", key=f"{key}_all", on_change=_mark_all, args=(key,))
    frame, n = lists[key]
    if frame.empty:
        return frame
    return st.data_editor(
        frame,
        hide_index=True,
        width="stretch",
        disabled=[c for c in frame.columns if c not in (PICK, *editable)],
        column_config={PICK: st.column_config.CheckboxColumn(PICK, width="small"), **config},
        key=f"{key}_editor_{n}",
    )


tab_in, tab_out, tab_up = st.tabs(
    [
        f"Na folha, sem plano ({format_int(len(result.inclusions))})",
        f"No plano, fora da folha ou demitidos ({format_int(len(result.exclusions))})",
        f"Dados diferentes ({format_int(len(result.updates))})",
    ]
)
with tab_in:
    st.caption(
        "Inclusão: a folha não traz tudo o que uma inclusão pede (nascimento, sexo, nome da "
        "mãe, endereço, plano). Baixe as escolhidas num arquivo do lote já preenchido com o "
        "que a folha tem, complete e envie em Cadastro em lote. Quem já foi titular da "
        "empresa volta por reativação (mesma carteirinha), que vai direto para o lote."
    )
    picked_in = _editor(
        pd.DataFrame(
            {
                "Linha": [o.entry.line for o in result.inclusions],
                "CPF": [result.cpf(o.entry.cpf) for o in result.inclusions],
                "Nome na folha": [o.entry.name for o in result.inclusions],
                "Admissão": [format_date(o.entry.admission) for o in result.inclusions],
                "Centro de custo": [o.entry.cost_centre for o in result.inclusions],
                "Movimento": [
                    f"Reativação de {o.former_name} (carteirinha {o.reactivation_card})"
                    if o.reactivation_card
                    else "Inclusão (completar no arquivo)"
                    for o in result.inclusions
                ],
            }
        ),
        "roster_in",
        [],
        {},
    )
with tab_out:
    st.caption(
        "Exclusão: escolha o motivo. O titular demitido sem justa causa ou aposentado que "
        "contribuiu para o plano pode ficar nele (arts. 30/31 da Lei 9.656): marque "
        f"\u201c{CONTRIBUTED}\u201d e a exclusão é feita no Cadastro individual, que registra "
        "a contribuição. Demissão futura (aviso prévio) agenda a exclusão para a data dela. "
        "Excluir o titular exclui também os dependentes dele."
    )
    picked_out = _editor(
        pd.DataFrame(
            {
                "Carteirinha": [o.holder.card for o in result.exclusions],
                "Nome": [o.holder.name for o in result.exclusions],
                "CPF": [result.cpf(o.holder.cpf) for o in result.exclusions],
                "Situação": [o.reason for o in result.exclusions],
                "Linha da folha": [o.roster_line for o in result.exclusions],
                REASON: [LABEL_OF.get(o.suggested_reason or "") for o in result.exclusions],
                CONTRIBUTED: [False for _ in result.exclusions],
            }
        ),
        "roster_out",
        [REASON, CONTRIBUTED],
        {
            REASON: st.column_config.SelectboxColumn(
                REASON, options=list(REASON_LABELS), width="medium"
            ),
            CONTRIBUTED: st.column_config.CheckboxColumn(CONTRIBUTED),
            "Linha da folha": st.column_config.NumberColumn(format="%d", width="small"),
        },
    )
with tab_up:
    st.caption(
        "Alteração: o nome e o centro de custo da folha substituem os do plano (os "
        "dependentes seguem o centro de custo do titular)."
    )
    picked_up = _editor(
        pd.DataFrame(
            {
                "Carteirinha": [u.holder.card for u in result.updates],
                "CPF": [result.cpf(u.holder.cpf) for u in result.updates],
                "Nome no plano": [u.holder.name for u in result.updates],
                "Nome na folha": [u.new_name or "" for u in result.updates],
                "Centro de custo no plano": [u.holder.cost_centre for u in result.updates],
                "Centro de custo na folha": [u.new_cost_centre or "" for u in result.updates],
                "Aviso": [
                    "centro de custo não cadastrado" if u.unknown_cost_centre else ""
                    for u in result.updates
                ],
            }
        ),
        "roster_up",
        [],
        {},
    )


def _chosen(frame: Any) -> list[int]:
    return [] if frame.empty else [i for i, v in enumerate(frame[PICK]) if bool(v)]


chosen_in = [result.inclusions[i] for i in _chosen(picked_in)]
reactivations = [o for o in chosen_in if o.reactivation_card]
inclusions = [o for o in chosen_in if not o.reactivation_card]
exclusions = [
    ChosenExclusion(
        result.exclusions[i],
        REASON_LABELS.get(str(picked_out[REASON].iloc[i] or "")),
        bool(picked_out[CONTRIBUTED].iloc[i]),
    )
    for i in _chosen(picked_out)
]
updates = [result.updates[i] for i in _chosen(picked_up)]

st.divider()
if inclusions:
    st.download_button(
        f"Baixar {format_int(len(inclusions))} inclusão(ões) para completar (xlsx)",
        data=lambda: roster_inclusion_file(inclusions),
        file_name=f"inclusoes_folha_{ctx.company.code}.xlsx",
        mime=bw.XLSX,
        on_click="ignore",
        icon=":material/download:",
        key="roster_inclusions_file",
    )
to_batch = len(reactivations) + len(exclusions) + len(updates)
st.caption(f"{format_int(to_batch)} linha(s) escolhida(s) para o lote.")
if st.button(
    "Gerar lote com as linhas escolhidas",
    type="primary",
    disabled=to_batch == 0,
    key="roster_make_batch",
):
    with user_errors(), st.spinner("Conferindo as linhas do lote..."):
        current["made"] = roster_to_batch(
            uow=ctx.uow(),
            actor=ctx.actor,
            now=now_utc(),
            exclusions=exclusions,
            updates=updates,
            reactivations=reactivations,
        )
        if current["made"].check is not None:
            st.session_state["batch_id"] = current["made"].check.batch.id
        st.rerun()
