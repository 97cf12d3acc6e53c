"""Exclusion widgets: the proof-of-exclusion download (RN 561/2022) and the list of
dependents ageing out with its one-click exclusion ("Excluir por perda de
elegibilidade", after a confirmation step), shared by the home page and the report."""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from components.context import Context, now_utc, portal_base_url
from components.document_pdf import exclusion_proof_pdf
from components.errors import user_errors
from components.safe_text import plain
from services import documents
from services.actors import Permission
from services.movements import ageing
from services.movements.exclusion_proof import exclusion_proof_view
from services.movements.service import MovementResult
from services.rules.errors import DomainError
from services.rules.formats import format_date
from services.rules.movements import MAX_FUTURE_DAYS, MovementKind

EXCLUDE_LABEL = "Excluir por perda de elegibilidade"


def proof_download(ctx: Context, protocol_number: str, *, today: date, key: str) -> None:
    """ "Baixar comprovante de exclusão" for an exclusion protocol of the company in
    context (nothing when the protocol has no live exclusion). The click issues the proof
    as a document with a verification code (recorded and audited: services/documents.py),
    which anyone may check on *Validar documento*."""
    try:
        view = exclusion_proof_view(
            uow=ctx.uow(), actor=ctx.actor, today=today, protocol_number=protocol_number
        )
    except DomainError:  # no live exclusion in this protocol (cancelled): no button
        return
    # Read now: the download runs after this script run, outside it.
    uow, base_url = ctx.uow(), portal_base_url()

    def issue() -> bytes:
        return documents.exclusion_proof_issue(
            uow=uow,
            actor=ctx.actor,
            protocol_number=view.protocol_number,
            now=now_utc(),
            base_url=base_url,
            render=exclusion_proof_pdf,
        ).content

    st.download_button(
        "Baixar comprovante de exclusão (PDF)",
        data=issue,
        file_name=view.file_name,
        mime="application/pdf",
        icon=":material/download:",
        on_click="ignore",
        key=f"{key}_proof_{view.protocol_number}",
        help="Comprovante da exclusão (RN 561/2022): beneficiário, carteirinha, data, "
        "motivo e protocolo, com código de verificação (Validar documento).",
    )


def result_proof(ctx: Context, result: MovementResult, *, today: date) -> None:
    """The proof download on a movement's result card, for exclusions only."""
    if result.kind is MovementKind.EXCLUSION:
        proof_download(ctx, result.protocol_number, today=today, key="movement_result")


def _confirm_key(key: str) -> str:
    return f"{key}_ageing_confirm"


def _done_key(key: str) -> str:
    return f"{key}_ageing_done"


def ageing_list(
    ctx: Context,
    rows: list[ageing.AgeingDependent],
    *,
    today: date,
    key: str,
    title: str | None = None,
) -> None:
    """One line per dependent (name, card, date) with the one-click exclusion for users
    who may move beneficiaries; a confirmation names the person, the date and the reason
    before the exclusion is sent; the result shows its protocol and the proof."""
    done = st.session_state.get(_done_key(key))
    if done and done[0] != ctx.company_id:
        done = None
    if not rows and not done:
        return
    if title:
        st.markdown(f"**{title}**")
    if done:
        _, number, name, when = done
        st.success(
            f"Exclusão por perda de elegibilidade registrada: **{plain(name)}**, a partir de "
            f"{format_date(when)}. Protocolo nº **{number}**.",
            icon=":material/check_circle:",
        )
        proof_download(ctx, number, today=today, key=f"{key}_done")
    can_move = ctx.actor.can(Permission.MOVEMENTS)
    pending = st.session_state.get(_confirm_key(key))
    for d in rows:
        c1, c2, c3 = st.columns([4, 3, 3], vertical_alignment="center")
        when = (
            f"perdeu a elegibilidade em {format_date(d.eligibility_end)}"
            if d.passed
            else f"perde a elegibilidade em {format_date(d.eligibility_end)}"
        )
        c1.markdown(
            f"**{plain(d.name)}** · {d.relationship_label}  \n{'⚠️ ' if d.passed else ''}{when}"
        )
        c2.markdown(
            f"Carteirinha {d.card_formatted}  \nLimite: {d.age_limit} anos"
            f"{' (estudante)' if d.is_student else ''}"
        )
        if not can_move:
            continue
        if not d.can_schedule:
            c3.caption(
                f"A exclusão pode ser informada a partir de "
                f"{format_date(d.eligibility_end - timedelta(days=MAX_FUTURE_DAYS))}."
            )
            continue
        if c3.button(
            EXCLUDE_LABEL, key=f"{key}_exclude_{d.beneficiary_id}", icon=":material/person_remove:"
        ):
            st.session_state[_confirm_key(key)] = d.beneficiary_id
            pending = d.beneficiary_id
        if pending == d.beneficiary_id:
            _confirm(ctx, d, key=key)


def _confirm(ctx: Context, d: ageing.AgeingDependent, *, key: str) -> None:
    with st.container(border=True):
        st.warning(
            f"Confirma a exclusão de **{plain(d.name)}** (carteirinha {d.card_formatted}) "
            f"a partir de **{format_date(d.exclusion_date)}**, motivo **Perda de "
            "elegibilidade**? A exclusão recebe um protocolo e não pode ser retroativa.",
            icon=":material/warning:",
        )
        b1, b2, _ = st.columns([2, 1, 2])
        if b1.button("Confirmar exclusão", type="primary", key=f"{key}_confirm_{d.beneficiary_id}"):
            with user_errors():
                result = ageing.exclude_aged_out(
                    uow=ctx.uow(), actor=ctx.actor, beneficiary_id=d.beneficiary_id, now=now_utc()
                )
                st.session_state.pop(_confirm_key(key), None)
                st.session_state[_done_key(key)] = (
                    ctx.company_id,
                    result.protocol_number,
                    d.name,
                    result.effective_date,
                )
                st.rerun()
        if b2.button("Cancelar", key=f"{key}_cancel_{d.beneficiary_id}"):
            st.session_state.pop(_confirm_key(key), None)
            st.rerun()
