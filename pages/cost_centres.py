"""Empresa > Centros de custo: the company's list; add, rename, deactivate, import."""

import pandas as pd
import streamlit as st

from components.context import get_context, now_utc
from components.errors import FieldSlots, user_errors
from components.safe_text import plain
from services import cost_centres, exports
from services.actors import Permission
from services.rules.cost_centres import ImportRefused
from services.rules.formats import format_int

ctx = get_context(Permission.MOVEMENTS)
st.title("Centros de custo")
st.caption(plain(ctx.company.label))

done = st.session_state.pop("cost_centres_done", None)
if done:
    st.success(done)


def _done(message: str) -> None:
    st.session_state["cost_centres_done"] = message
    st.rerun()


listing: cost_centres.CostCentreList | None = None
with user_errors():
    listing = cost_centres.cost_centre_list(uow=ctx.uow(), actor=ctx.actor)
if listing is None:
    st.stop()
rows = listing.rows

list_tab, add_tab, edit_tab, import_tab = st.tabs(
    ["Lista", "Novo centro de custo", "Renomear ou desativar", "Importar planilha"]
)

with list_tab:
    if not rows:
        st.info(
            "Esta empresa ainda não tem centros de custo. Cadastre-os um a um ou importe a "
            "lista de uma planilha: depois, cada titular pode ser associado a um deles "
            "(inclusão, alteração cadastral ou coluna centro_custo do lote)."
        )
    else:
        c1, c2, c3 = st.columns(3)
        c1.metric("Centros de custo ativos", format_int(len(listing.active)))
        c2.metric("Titulares ativos com centro de custo", format_int(sum(r.holders for r in rows)))
        c3.metric("Titulares ativos sem centro de custo", format_int(listing.holders_without))
        st.dataframe(
            pd.DataFrame(
                {
                    "Código": [r.code for r in rows],
                    "Nome": [r.name for r in rows],
                    "Situação": ["Ativo" if r.active else "Desativado" for r in rows],
                    "Titulares ativos": [r.holders for r in rows],
                }
            ),
            hide_index=True,
            width="stretch",
            key="cost_centres_table",
        )
        st.caption(
            "Os dependentes seguem o centro de custo do titular. Faturas, relatórios de "
            "faturamento e relatórios de beneficiários podem ser filtrados e separados por "
            "centro de custo."
        )
    if listing.required:
        st.info(
            "A empresa exige um centro de custo ativo na inclusão de todo titular "
            "(formulário, lote e retroativo).",
            icon=":material/rule:",
        )
    label = (
        "Deixar de exigir na inclusão" if listing.required else "Exigir na inclusão de titulares"
    )
    if st.button(label, key="cost_centre_requirement"):
        with user_errors():
            now_required = cost_centres.cost_centre_requirement_set(
                uow=ctx.uow(), actor=ctx.actor, required=not listing.required, now=now_utc()
            )
            _done(
                "Centro de custo agora é obrigatório na inclusão de titulares."
                if now_required
                else "Centro de custo deixou de ser obrigatório na inclusão."
            )

with add_tab:
    slots = FieldSlots()
    with st.form("cost_centre_add", clear_on_submit=False):
        code = st.text_input("Código *", max_chars=20, help="Letras, números, espaço e . - _ /")
        slots.add("code")
        name = st.text_input("Nome *", max_chars=120)
        slots.add("name")
        if st.form_submit_button("Cadastrar centro de custo", type="primary"):
            with user_errors(slots):
                row = cost_centres.cost_centre_add(
                    uow=ctx.uow(), actor=ctx.actor, code=code, name=name, now=now_utc()
                )
                _done(f"Centro de custo {row.code} cadastrado.")

with edit_tab:
    if not rows:
        st.info("Nenhum centro de custo cadastrado ainda.")
    else:
        by_id = {r.id: r for r in rows}
        chosen = st.selectbox(
            "Centro de custo",
            list(by_id),
            format_func=lambda i: plain(
                by_id[i].label + ("" if by_id[i].active else " (desativado)")
            ),
            key="cost_centre_edit_pick",
        )
        current = by_id[chosen]
        rename_slots = FieldSlots()
        with st.form(f"cost_centre_rename_{current.id}"):
            new_name = st.text_input("Novo nome *", value=current.name, max_chars=120)
            rename_slots.add("name")
            if st.form_submit_button("Salvar nome"):
                with user_errors(rename_slots):
                    row = cost_centres.cost_centre_rename(
                        uow=ctx.uow(),
                        actor=ctx.actor,
                        cost_centre_id=current.id,
                        name=new_name,
                        now=now_utc(),
                    )
                    _done(f"Centro de custo {row.code} renomeado.")
        if current.active:
            st.caption(
                f"{format_int(current.holders)} titular(es) ativo(s) neste centro de custo. "
                "Só pode ser desativado sem titulares ativos."
            )
            if st.button("Desativar", key="cost_centre_deactivate"):
                with user_errors():
                    row = cost_centres.cost_centre_deactivate(
                        uow=ctx.uow(), actor=ctx.actor, cost_centre_id=current.id, now=now_utc()
                    )
                    _done(f"Centro de custo {row.code} desativado.")
        elif st.button("Reativar", key="cost_centre_reactivate"):
            with user_errors():
                row = cost_centres.cost_centre_reactivate(
                    uow=ctx.uow(), actor=ctx.actor, cost_centre_id=current.id, now=now_utc()
                )
                _done(f"Centro de custo {row.code} reativado.")

with import_tab:
    st.markdown(
        "Envie uma planilha (.xlsx ou .csv) com as colunas **codigo** e **nome**, um centro "
        "de custo por linha. Códigos novos são incluídos; códigos já cadastrados recebem o "
        "nome da planilha (e são reativados). Se alguma linha tiver problema, nada é "
        "importado e cada linha a corrigir é listada."
    )
    t1, t2, _ = st.columns([1, 1, 2])
    t1.download_button(
        "Baixar modelo (xlsx)",
        data=lambda: cost_centres.cost_centre_template("xlsx"),
        file_name="modelo_centros_de_custo.xlsx",
        mime=exports.XLSX_MIME,
        on_click="ignore",
        icon=":material/download:",
    )
    t2.download_button(
        "Baixar modelo (CSV)",
        data=lambda: cost_centres.cost_centre_template("csv"),
        file_name="modelo_centros_de_custo.csv",
        mime=exports.CSV_MIME,
        on_click="ignore",
        icon=":material/download:",
    )
    uploaded = st.file_uploader(
        "Planilha de centros de custo", type=["xlsx", "csv"], key="cost_centre_upload"
    )
    if uploaded is not None and st.button("Importar", type="primary", key="cost_centre_import"):
        refused: ImportRefused | None = None
        with user_errors():
            try:
                result = cost_centres.cost_centre_import(
                    uow=ctx.uow(),
                    actor=ctx.actor,
                    file_name=uploaded.name,
                    content=uploaded.getvalue(),
                    now=now_utc(),
                )
            except ImportRefused as exc:
                refused = exc
            else:
                _done(result.message)
        if refused is not None:
            st.error(
                f"Nada foi importado: corrija {len(refused.problems)} linha(s) e envie de novo."
            )
            st.dataframe(
                pd.DataFrame({"Problema": refused.problems}),
                hide_index=True,
                width="stretch",
                key="cost_centre_import_problems",
            )
