"""Forms of the beneficiary movements, shared by "Cadastro individual" and "Cadastro retroativo".

Each `*_form` renders its widgets and returns a request dataclass on submit (None
otherwise); each `*_section` (what the pages call) runs one through `movement_section`:
the service is called inside `user_errors(slots)`, then `remember()` keeps the result in
the session (it survives reruns) and the section shows ONE result card in place of the
form (`result_card`: protocol, card number, effective date, what it does to the invoice,
"Ver protocolo" and "Nova movimentação") until "Nova movimentação", another movement
type or another company. The rules stay in the services: these forms only collect input.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import date, timedelta
from typing import Any

import streamlit as st

from components import exclusion_widgets, navigation
from components.clock import today_local
from components.context import Context, now_utc
from components.errors import FieldSlots, user_errors
from components.safe_text import plain
from components.virtual_card import virtual_card_png
from components.waiting_widgets import waiting_panel
from services.movements import service as movements
from services.movements.requests import (
    ExclusionRequest,
    InclusionRequest,
    MovementRequest,
    PlanChangeRequest,
    ReactivationRequest,
    TransferRequest,
    UpdateRequest,
)
from services.movements.service import BeneficiaryRow, MovementOptions, MovementResult
from services.rules.card_numbers import format_card_number
from services.rules.cost_centres import CostCentreRef
from services.rules.eligibility import Relationship
from services.rules.formats import (
    digits_of,
    format_cep,
    format_cpf,
    format_date,
    format_phone,
    mask_cpf,
)
from services.rules.movements import (
    EXCLUSION_REASONS,
    FIELD_LABELS,
    MARITAL_STATUSES,
    MAX_FUTURE_DAYS,
    MOVEMENT_LABELS,
    SEXES,
    STATES,
    STAY_REASONS,
    MovementKind,
    PersonData,
    may_opt_for_stay,
    movement_channel,
    stay_until,
)

MIN_BIRTH = date(1900, 1, 1)
RESULT_LABELS = {**FIELD_LABELS, "cost_centre": "Centro de custo"}
DONE_KEY = "movement_done"  # the last accepted movement (one for both movement pages)
PROTOCOL_TO_SHOW = "protocol_show"  # a protocol number the Protocolos page opens
PROTOCOLS_PAGE = "pages/protocols.py"
KEEP_PLAN = "keep"  # a transfer's "Manter o plano atual" choice
STUDENT_RELATIONSHIPS = (Relationship.CHILD, Relationship.STEPCHILD)
STAY_EXPLANATION = (
    "Pela Lei 9.656/1998 (arts. 30 e 31), o titular que contribuía com o pagamento do "
    "plano pode continuar nele: **demitido sem justa causa**, por 1/3 do tempo de "
    "contribuição (mínimo de 6 e máximo de 24 meses); **aposentado** com 10 anos ou mais "
    "de contribuição, por tempo indeterminado, e com menos, 1 ano para cada ano de "
    "contribuição."
)


# ---------------------------------------------------------------- session


@dataclass(frozen=True)
class Done:
    """The last accepted movement, kept in the session: which form (key) of which company."""

    company_id: int
    key: str
    result: MovementResult
    card_png: bytes | None = None


def _nonce(key: str) -> int:
    return int(st.session_state.get(f"{key}__nonce", 0))


def remember(ctx: Context, key: str, result: MovementResult, **extra: Any) -> None:
    """Keep the result for `show_last`, start a fresh form and rerun."""
    st.session_state[DONE_KEY] = Done(ctx.company_id, key, result, **extra)
    st.session_state[f"{key}__nonce"] = _nonce(key) + 1
    st.rerun()


def show_last(ctx: Context, key: str) -> bool:
    """The result card of the last movement made with this form, if any (True then).

    A result of another form (another movement type or page) or of another company is
    stale: it is dropped, so it is not shown when the user comes back.
    """
    done: Done | None = st.session_state.get(DONE_KEY)
    if done is None:
        return False
    if done.key != key or done.company_id != ctx.company_id:
        del st.session_state[DONE_KEY]
        return False
    result_card(ctx, done)
    return True


def _new_movement(key: str) -> None:
    """The "Nova movimentação" action: drop the result card and clear the form."""
    st.session_state.pop(DONE_KEY, None)
    st.session_state[f"{key}__nonce"] = _nonce(key) + 1
    for name in [k for k in st.session_state if str(k).startswith(f"{key}_")]:
        if not str(name).startswith(f"{key}__"):
            del st.session_state[name]


# ---------------------------------------------------------------- pickers


def beneficiary_picker(
    ctx: Context,
    *,
    key: str,
    label: str = "Beneficiário *",
    status: str | None = None,
    holders_only: bool = False,
) -> BeneficiaryRow | None:
    """Search by name, card number or CPF, then choose one; None when nothing matches."""
    text = st.text_input(
        f"Buscar {'titular' if holders_only else 'beneficiário'} (nome, carteirinha ou CPF)",
        key=f"{key}_search",
        placeholder="Digite parte do nome, a carteirinha ou o CPF",
    )
    rows = movements.beneficiary_search(
        uow=ctx.uow(),
        actor=ctx.actor,
        text=text,
        status=status,
        holders_only=holders_only,
        now=now_utc(),
    )
    if not rows:
        st.info("Nenhum beneficiário encontrado com essa busca.")
        return None
    by_card = {r.card_number: r for r in rows}
    card = st.selectbox(
        label,
        list(by_card),
        format_func=lambda c: by_card[c].label,
        key=f"{key}_pick",
        help="Mostra até 50 resultados; refine a busca para achar outros.",
    )
    chosen = by_card.get(card) if card else None
    if chosen is not None and chosen.scheduled:
        st.warning(
            f"{plain(chosen.name)}: {chosen.scheduled}. Até essa data nada muda; para "
            "registrar outra movimentação, cancele-a na aba Agendadas.",
            icon=":material/event:",
        )
    return chosen


# ---------------------------------------------------------------- person fields


def _text(value: str) -> str | None:
    value = value.strip()
    return value or None


# Pre-filled in a form with their mask; typed with or without punctuation.
SHOWN_FORMATTED = {"cpf": format_cpf, "cep": format_cep, "phone": format_phone}


def person_fields(
    slots: FieldSlots,
    *,
    key: str,
    relationship: int,
    initial: PersonData | None = None,
) -> PersonData:
    """Every SIB field of a person (inside a form); a slot under each for its message."""
    p = initial or PersonData()
    holder = relationship == Relationship.HOLDER
    today = today_local()

    def text(field: str, label: str, **kwargs: Any) -> str:
        shown = SHOWN_FORMATTED.get(field, str)(getattr(p, field) or "")  # 000.000.000-00
        value = st.text_input(label, value=shown, key=f"{key}_{field}", **kwargs)
        slots.add(field)
        return value

    def choice(field: str, label: str, options: list[str], **kwargs: Any) -> str | None:
        current = getattr(p, field)
        value = st.selectbox(
            label,
            options,
            index=options.index(current) if current in options else None,
            placeholder="Escolha",
            key=f"{key}_{field}",
            **kwargs,
        )
        slots.add(field)
        return value

    c1, c2 = st.columns([2, 1])
    with c1:
        name = text("name", "Nome completo *", max_chars=200)
    with c2:
        cpf = text(
            "cpf",
            "CPF *" if holder else "CPF",
            max_chars=14,
            placeholder="000.000.000-00",
            help="Obrigatório para titulares e dependentes a partir de 18 anos.",
        )
    c1, c2, c3 = st.columns(3)
    with c1:
        birth = st.date_input(
            "Data de nascimento *",
            value=p.birth_date,
            min_value=MIN_BIRTH,
            max_value=today,
            format="DD/MM/YYYY",
            key=f"{key}_birth_date",
        )
        slots.add("birth_date")
    with c2:
        sex = choice("sex", "Sexo *", list(SEXES), format_func=SEXES.__getitem__)
    with c3:
        marital = choice("marital_status", "Estado civil", list(MARITAL_STATUSES))
    c1, c2 = st.columns([2, 1])
    with c1:
        mother = text("mother_name", "Nome da mãe *", max_chars=200)
    with c2:
        cns = text(
            "cns",
            "CNS",
            max_chars=18,
            placeholder="000 0000 0000 0000",
            help="Cartão Nacional de Saúde (opcional).",
        )
    student = p.is_student
    if relationship in STUDENT_RELATIONSHIPS:
        student = st.checkbox(
            "Estudante",
            value=p.is_student,
            key=f"{key}_is_student",
            help="Filhos e enteados estudantes podem ficar no plano até a idade limite "
            "para estudantes do contrato.",
        )
        slots.add("is_student")
    c1, c2 = st.columns(2)
    with c1:
        email = text("email", "E-mail", max_chars=254, placeholder="nome@empresa.com.br")
    with c2:
        phone = text("phone", "Telefone", max_chars=16, placeholder="(11) 91234-5678")

    st.markdown("**Endereço**")
    if not holder:
        st.caption("Em branco = endereço do titular.")
    c1, c2, c3 = st.columns([1, 3, 1])
    with c1:
        cep = text("cep", "CEP" if not holder else "CEP *", max_chars=9, placeholder="00000-000")
    with c2:
        street = text("street", "Logradouro", max_chars=200)
    with c3:
        number = text("number", "Número", max_chars=20)
    c1, c2 = st.columns(2)
    with c1:
        complement = text("complement", "Complemento", max_chars=100)
    with c2:
        neighbourhood = text("neighbourhood", "Bairro", max_chars=100)
    c1, c2 = st.columns([3, 1])
    with c1:
        municipality = text("municipality", "Município" if not holder else "Município *")
    with c2:
        state = choice("state", "UF" if not holder else "UF *", STATES)

    admission = p.admission_date
    if holder:
        admission = st.date_input(
            "Data de admissão *",
            value=p.admission_date,
            min_value=MIN_BIRTH,
            max_value=today + timedelta(days=MAX_FUTURE_DAYS),
            format="DD/MM/YYYY",
            key=f"{key}_admission_date",
            help="Data de admissão do titular na empresa.",
        )
        slots.add("admission_date")
    return PersonData(
        name=name.strip(),
        cpf=_text(cpf),
        cns=_text(cns),
        birth_date=birth,
        sex=sex or "",
        mother_name=mother.strip(),
        marital_status=marital,
        is_student=bool(student),
        email=_text(email),
        phone=_text(phone),
        cep=_text(cep),
        street=_text(street),
        number=_text(number),
        complement=_text(complement),
        neighbourhood=_text(neighbourhood),
        municipality=_text(municipality),
        state=state,
        admission_date=admission,
    )


def person_changes(before: PersonData, after: PersonData) -> dict[str, Any]:
    """The fields the user changed in a prefilled form (blank and None are the same)."""

    def norm(field: str, value: Any) -> Any:
        if field in SHOWN_FORMATTED and isinstance(value, str) and "*" not in value:
            return digits_of(value) or None  # 529.982.247-25 is the stored 52998224725
        return (value.strip() or None) if isinstance(value, str) else value

    return {
        f.name: getattr(after, f.name)
        for f in fields(PersonData)
        if norm(f.name, getattr(after, f.name)) != norm(f.name, getattr(before, f.name))
    }


def _effective_input(slots: FieldSlots, *, key: str, effective: date | None, label: str) -> date:
    """A date from today on (individual channel) or the fixed retroactive date."""
    if effective is not None:
        st.markdown(f"**{label}:** {format_date(effective)} (retroativa)")
        slots.add("effective_date")
        return effective
    today = today_local()
    chosen = st.date_input(
        f"{label} *",
        value=today,
        min_value=today,
        max_value=today + timedelta(days=MAX_FUTURE_DAYS),
        format="DD/MM/YYYY",
        key=f"{key}_effective",
    )
    slots.add("effective_date")
    return chosen


def _rows_table(rows: list[BeneficiaryRow]) -> None:
    st.dataframe(
        [
            {
                "Nome": r.name,
                "Carteirinha": format_card_number(r.card_number),
                "Parentesco": r.relationship_label,
                "Plano": r.plan_name,
            }
            for r in rows
        ],
        hide_index=True,
        width="stretch",
    )


# ---------------------------------------------------------------- inclusion


def inclusion_form(
    ctx: Context,
    slots: FieldSlots,
    options: MovementOptions,
    *,
    key: str,
    effective: date | None = None,
) -> InclusionRequest | None:
    """Holder (with plan) or dependent (of an active holder); the request on submit."""
    kind = st.radio(
        "Tipo de beneficiário", ["Titular", "Dependente"], horizontal=True, key=f"{key}_kind"
    )
    relationship = Relationship.HOLDER
    holder: BeneficiaryRow | None = None
    if kind == "Dependente":
        holder = beneficiary_picker(
            ctx, key=f"{key}_holder", label="Titular *", status="active", holders_only=True
        )
        slots.add("holder")
        relationship = st.selectbox(
            "Parentesco *",
            [r for r in Relationship if r is not Relationship.HOLDER],
            format_func=lambda r: r.label,
            key=f"{key}_relationship",
        )
        slots.add("relationship_code")
        if holder is not None:
            st.caption(f"O dependente entra no plano do titular: {plain(holder.plan_name)}.")
    plans = {p.id: p for p in options.plans}
    form_key = f"{key}_{kind}_{int(relationship)}_{_nonce(key)}"
    with st.form(form_key):
        plan_id = None
        cost_centre = None
        if relationship == Relationship.HOLDER:
            plan_id = st.selectbox(
                "Plano *",
                list(plans),
                index=None,
                format_func=lambda i: plans[i].label,
                placeholder="Escolha o plano",
                key=f"{form_key}_plan",
            )
            slots.add("plan")
            cost_centre = cost_centre_input(
                options.cost_centres,
                None,
                key=f"{form_key}_cost_centre",
                required=options.cost_centre_required,
            )
            slots.add("cost_centre")
        person = person_fields(slots, key=form_key, relationship=relationship)
        chosen = _effective_input(
            slots, key=form_key, effective=effective, label="Data de vigência"
        )
        submitted = st.form_submit_button("Incluir beneficiário", type="primary")
    if not submitted:
        return None
    return InclusionRequest(
        person=person,
        relationship_code=int(relationship),
        plan_id=plan_id,
        holder_card=holder.card_number if holder else None,
        effective_date=chosen,
        channel=movement_channel(effective),
        cost_centre=cost_centre,
    )


def cost_centre_input(
    choices: list[CostCentreRef], current: CostCentreRef | None, *, key: str, required: bool = False
) -> str | None:
    """The holder's cost centre (its code), shown only when the company keeps a list
    (marked required when the company demands one of every holder included)."""
    if not choices:
        return None
    codes = [c.code for c in choices]
    labels = {c.code: c.label for c in choices}
    if current is not None and current.code not in labels:  # deactivated since
        codes.insert(0, current.code)
        labels[current.code] = f"{current.label} (desativado)"
    chosen = st.selectbox(
        "Centro de custo *" if required else "Centro de custo",
        codes,
        index=codes.index(current.code) if current is not None else None,
        format_func=lambda code: plain(labels[code]),
        placeholder="Escolha o centro de custo",
        help="Os dependentes seguem o centro de custo do titular.",
        key=key,
    )
    return str(chosen) if chosen is not None else None


def virtual_card(ctx: Context, result: MovementResult, options: MovementOptions) -> bytes:
    """The PNG card of the first beneficiary of an inclusion or reactivation."""
    detail = movements.beneficiary_detail(
        uow=ctx.uow(), actor=ctx.actor, card_number=result.card_number
    )
    plan = next((p for p in options.plans if p.id == detail.plan_id), None)
    return virtual_card_png(
        name=detail.row.name,
        card_number=detail.row.card_number,
        plan_name=plan.name if plan else detail.row.plan_name,
        company_name=ctx.company.name,
        ans_registration=plan.ans_registration if plan else "—",
        effective_date=result.effective_date,
        waiting=detail.waiting_periods,
    )


# ---------------------------------------------------------------- exclusion


def exclusion_form(ctx: Context, slots: FieldSlots, *, key: str) -> ExclusionRequest | None:
    """Beneficiary, reason and date; the dependents it takes and the legal stay."""
    row = beneficiary_picker(ctx, key=f"{key}_who", status="active")
    slots.add("card_number")
    if row is None:
        return None
    nonce = f"{key}_{row.card_number}_{_nonce(key)}"
    c1, c2 = st.columns(2)
    with c1:
        reason = st.selectbox(
            "Motivo da exclusão *",
            list(EXCLUSION_REASONS),
            index=None,
            format_func=EXCLUSION_REASONS.__getitem__,
            placeholder="Escolha o motivo",
            key=f"{nonce}_reason",
        )
        slots.add("reason")
    with c2:
        today = today_local()
        if reason == "pedido":
            # RN 561/2022: at the beneficiary's own request it takes effect on that date.
            effective = today
            st.text_input(
                "Data da exclusão *",
                value=format_date(today),
                disabled=True,
                key=f"{nonce}_date_request",
                help="A exclusão a pedido do beneficiário vale na data do pedido (RN 561/2022).",
            )
        else:
            effective = st.date_input(
                "Data da exclusão *",
                value=today,
                min_value=today,
                max_value=today + timedelta(days=MAX_FUTURE_DAYS),
                format="DD/MM/YYYY",
                key=f"{nonce}_date",
                help="A exclusão não pode ser retroativa (RN 561/2022): hoje ou uma data "
                "futura. Com data futura ela fica agendada e pode ser cancelada até lá.",
            )
        slots.add("effective_date")
    preview = movements.exclusion_preview(
        uow=ctx.uow(), actor=ctx.actor, card_number=row.card_number
    )
    dependents = preview[1:]
    confirmed = False
    if dependents:
        st.warning(f"A exclusão do titular exclui também {len(dependents)} dependente(s) ativo(s):")
        _rows_table(dependents)
        confirmed = st.checkbox(
            "Confirmo a exclusão dos dependentes listados", key=f"{nonce}_confirm"
        )
        slots.add("dependents_confirmed")
    contributed, months, stay_accepted = False, 0, False
    if row.relationship_code == Relationship.HOLDER and reason in STAY_REASONS:
        st.info(STAY_EXPLANATION)
        contributed = (
            st.radio(
                "O titular contribuía com o pagamento do plano?",
                ["Não", "Sim"],
                horizontal=True,
                key=f"{nonce}_contributed",
            )
            == "Sim"
        )
        if contributed:
            months = int(
                st.number_input(
                    "Por quantos meses contribuiu?",
                    min_value=0,
                    max_value=600,
                    value=12,
                    step=1,
                    key=f"{nonce}_months",
                )
            )
            slots.add("contribution_months")
        # A preview only: the service recomputes the stay when it registers the exclusion.
        stay_months, until = stay_until(reason, contributed, months, effective)
        if stay_months is None:
            st.caption("Pela lei, poderá permanecer no plano por tempo indeterminado.")
        elif until is not None:
            st.caption(
                f"Pela lei, poderá permanecer no plano por {stay_months} meses, "
                f"até {format_date(until)}."
            )
        else:
            st.caption("Sem direito a permanência no plano.")
        if stay_months != 0:
            stay_accepted = (
                st.radio(
                    "O ex-empregado optou por permanecer no plano (arts. 30/31)? *",
                    ["Não", "Sim"],
                    horizontal=True,
                    key=f"{nonce}_stay",
                    help="A opção vale se feita em até 30 dias do desligamento. Com ela, o "
                    "titular e todo o grupo familiar continuam cobertos, pagando o valor "
                    "integral em lançamentos próprios (art. 30/31) na fatura, e são excluídos "
                    "no fim da permanência.",
                )
                == "Sim"
            )
            slots.add("stay_accepted")
    if not st.button("Excluir", type="primary", key=f"{nonce}_submit"):
        return None
    return ExclusionRequest(
        card_number=row.card_number,
        reason=reason or "",
        effective_date=effective,
        dependents_confirmed=confirmed,
        contributed=contributed,
        contribution_months=months,
        stay_accepted=stay_accepted,
    )


# ---------------------------------------------------------------- update


def update_form(ctx: Context, slots: FieldSlots, *, key: str) -> UpdateRequest | None:
    """The register prefilled; only the changed fields are sent."""
    row = beneficiary_picker(ctx, key=f"{key}_who")
    slots.add("card_number")
    if row is None:
        return None
    detail = movements.beneficiary_detail(
        uow=ctx.uow(), actor=ctx.actor, card_number=row.card_number
    )
    waiting_panel(detail.waiting_periods, today=today_local())
    form_key = f"{key}_{row.card_number}_{_nonce(key)}"
    with st.form(form_key):
        person = person_fields(
            slots, key=form_key, relationship=row.relationship_code, initial=detail.person
        )
        cost_centre = None
        if row.relationship_code == Relationship.HOLDER:
            cost_centre = cost_centre_input(
                detail.cost_centre_choices, detail.cost_centre, key=f"{form_key}_cost_centre"
            )
            slots.add("cost_centre")
        elif detail.cost_centre is not None:
            st.caption(
                f"Centro de custo do titular: {plain(detail.cost_centre.label)} "
                "(os dependentes o acompanham)."
            )
        submitted = st.form_submit_button("Salvar alterações", type="primary")
    if not submitted:
        return None
    changes = person_changes(detail.person, person)
    current = detail.cost_centre.code if detail.cost_centre else None
    new_centre = cost_centre if cost_centre not in (None, current) else None
    if not changes and new_centre is None:
        st.error("Nenhum dado foi alterado: mude ao menos um campo antes de salvar.")
        return None
    return UpdateRequest(card_number=row.card_number, changes=changes, cost_centre=new_centre)


# ---------------------------------------------------------------- reactivation


def reactivation_form(
    ctx: Context, slots: FieldSlots, *, key: str, effective: date | None = None
) -> ReactivationRequest | None:
    """An inactive beneficiary with its stored data, optionally edited first."""
    row = beneficiary_picker(ctx, key=f"{key}_who", status="inactive")
    slots.add("card_number")
    if row is None:
        return None
    detail = movements.beneficiary_detail(
        uow=ctx.uow(), actor=ctx.actor, card_number=row.card_number
    )
    p = detail.person
    reason = EXCLUSION_REASONS.get(detail.exclusion_reason or "", detail.exclusion_reason or "—")
    st.dataframe(
        [
            {"Dado": "Nome", "Valor": p.name},
            {"Dado": "CPF", "Valor": row.cpf_masked},
            {"Dado": "Data de nascimento", "Valor": format_date(p.birth_date)},
            {"Dado": "Parentesco", "Valor": row.relationship_label},
            {"Dado": "Titular", "Valor": detail.holder_name or "—"},
            {"Dado": "Plano", "Valor": row.plan_name},
            {"Dado": "Carteirinha", "Valor": format_card_number(row.card_number)},
            {"Dado": "Excluído(a) em", "Valor": format_date(row.exclusion_date)},
            {"Dado": "Motivo da exclusão", "Valor": reason},
            {"Dado": "Município/UF", "Valor": f"{p.municipality or '—'}/{p.state or '—'}"},
        ],
        hide_index=True,
        width="stretch",
    )
    form_key = f"{key}_{row.card_number}_{_nonce(key)}"
    may_stay = may_opt_for_stay(
        relationship_code=row.relationship_code,
        exclusion_reason=detail.exclusion_reason,
        exclusion_date=row.exclusion_date,
        today=today_local(),
    )
    if effective is None and may_stay:
        st.info(
            "Titular excluído por demissão sem justa causa ou aposentadoria há até 30 dias: "
            "se contribuía para o plano, pode optar pela permanência (Lei 9.656, arts. "
            "30/31). A opção cobre de novo o titular e o grupo familiar desde a exclusão, "
            "até o fim da permanência."
        )
        if st.button("Registrar opção pela permanência (arts. 30/31)", key=f"{form_key}_stay"):
            return ReactivationRequest(card_number=row.card_number, stay=True)
    edit = st.checkbox("Editar dados antes de reativar", key=f"{form_key}_edit")
    with st.form(f"{form_key}_form"):
        person = p
        if edit:
            person = person_fields(
                slots, key=form_key, relationship=row.relationship_code, initial=p
            )
        chosen = _effective_input(
            slots, key=form_key, effective=effective, label="Data de reativação"
        )
        submitted = st.form_submit_button("Reativar", type="primary")
    if not submitted:
        return None
    return ReactivationRequest(
        card_number=row.card_number,
        effective_date=chosen,
        changes=person_changes(p, person),
        channel=movement_channel(effective),
    )


# ---------------------------------------------------------------- transfer


def transfer_form(
    ctx: Context, slots: FieldSlots, options: MovementOptions, *, key: str
) -> TransferRequest | None:
    """An active holder (with its dependents) to another company of the same group."""
    if not options.transfer_targets:
        st.info(
            "Esta empresa não tem empresas do mesmo grupo econômico no seu acesso: "
            "não há para onde transferir."
        )
        return None
    row = beneficiary_picker(
        ctx, key=f"{key}_who", label="Titular *", status="active", holders_only=True
    )
    slots.add("card_number")
    if row is None:
        return None
    detail = movements.beneficiary_detail(
        uow=ctx.uow(), actor=ctx.actor, card_number=row.card_number
    )
    targets = dict(options.transfer_targets)
    nonce = f"{key}_{row.card_number}_{_nonce(key)}"
    # Not in an st.form: choosing the destination reruns, and its plans follow.
    target = st.selectbox(
        "Empresa de destino *",
        list(targets),
        format_func=targets.__getitem__,
        key=f"{nonce}_target",
    )
    slots.add("target_company")
    plans: movements.TransferPlans | None = None
    with user_errors(slots):
        plans = movements.transfer_plans(
            uow=ctx.uow(), actor=ctx.actor, card_number=row.card_number, target_company_id=target
        )
    if plans is None:
        return None
    by_id = {p.id: p for p in plans.plans}
    current = plans.current
    # "Manter o plano atual" only when the destination contracts it.
    choices: list[int | str] = [KEEP_PLAN] if plans.keep_current else []
    choices += [i for i in by_id if not (plans.keep_current and i == current.id)]
    choice = st.selectbox(
        "Plano na empresa de destino *",
        choices,
        index=0 if plans.keep_current else None,
        format_func=lambda i: (
            f"Manter o plano atual: {current.label}" if i == KEEP_PLAN else by_id[int(i)].label
        ),
        placeholder="Escolha um dos planos da empresa de destino",
        key=f"{nonce}_plan_{target}",
    )
    slots.add("plan")
    plan_id = None if choice is None or choice == KEEP_PLAN else int(choice)
    if not plans.keep_current:
        st.caption(
            f"O plano atual ({plain(current.name)}) não é contratado pela empresa de destino: "
            "escolha um dos planos dela."
        )
    effective = _effective_input(slots, key=nonce, effective=None, label="Data da transferência")
    going = [d for d in detail.dependents if d.status == "active"]
    if going:
        st.caption("Os dependentes ativos vão junto com o titular:")
        _rows_table(going)
    if not st.button("Transferir", type="primary", key=f"{nonce}_submit"):
        return None
    return TransferRequest(
        card_number=row.card_number,
        target_company_id=target,
        plan_id=plan_id,
        effective_date=effective,
    )


# ---------------------------------------------------------------- plan change


def plan_change_form(
    ctx: Context,
    slots: FieldSlots,
    options: MovementOptions,
    *,
    key: str,
    effective: date | None = None,
) -> PlanChangeRequest | None:
    """An active holder's new plan; the active dependents follow."""
    row = beneficiary_picker(
        ctx, key=f"{key}_who", label="Titular *", status="active", holders_only=True
    )
    slots.add("card_number")
    if row is None:
        return None
    detail = movements.beneficiary_detail(
        uow=ctx.uow(), actor=ctx.actor, card_number=row.card_number
    )
    others = {p.id: p for p in options.plans if p.id != detail.plan_id}
    st.markdown(f"**Plano atual:** {plain(row.plan_name)}")
    if not others:
        st.info("A empresa não tem outro plano contratado para onde alterar.")
        return None
    nonce = f"{key}_{row.card_number}_{_nonce(key)}"
    plan_id = st.selectbox(
        "Novo plano *",
        list(others),
        index=None,
        format_func=lambda i: others[i].label,
        placeholder="Escolha o novo plano",
        key=f"{nonce}_plan",
    )
    slots.add("plan")
    chosen = _effective_input(slots, key=nonce, effective=effective, label="Data de vigência")
    going = [d for d in detail.dependents if d.status == "active"]
    if going:
        st.caption("Os dependentes ativos acompanham o titular no novo plano:")
        _rows_table(going)
    if not st.button("Alterar plano", type="primary", key=f"{nonce}_submit"):
        return None
    if plan_id is None:
        slots.show({"plan": "Escolha o novo plano."})
        return None
    return PlanChangeRequest(
        card_number=row.card_number,
        plan_id=plan_id,
        effective_date=chosen,
        channel=movement_channel(effective),
    )


# ---------------------------------------------------------------- results


def fmt_value(field: str, value: Any) -> str:
    """A register value as the user reads it."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Sim" if value else "Não"
    if isinstance(value, date):
        return format_date(value)
    if field == "sex":
        return SEXES.get(value, value)
    if field == "cpf":
        return mask_cpf(value) if len(str(value)) == 11 else str(value)
    return str(value)


def result_card(ctx: Context, done: Done) -> None:
    """ONE card for any accepted movement (individual or retroactive): protocol, card
    number, effective date, what it does to the invoice (the service says; nothing when
    it does nothing), the details of the movement type, and two actions."""
    r = done.result
    first = r.affected[0]
    with st.container(border=True, key="movement_result"):
        if r.scheduled_text:
            st.success(
                f"{r.scheduled_text}: **{plain(first.name)}**. Até essa data nada muda, e ela "
                "pode ser cancelada na aba Agendadas.",
                icon=":material/event:",
            )
        else:
            st.success(
                f"{MOVEMENT_LABELS[r.kind]} registrada: **{plain(first.name)}**",
                icon=":material/check_circle:",
            )
        facts = [
            f"**Protocolo nº** {r.protocol_number}",
            f"**Carteirinha nº** {format_card_number(first.card_number)}",
            f"**Vigência:** {format_date(r.effective_date)}",
        ]
        if r.target_company:
            facts.append(f"**Empresa de destino:** {plain(r.target_company)}")
        if r.invoice_effect:
            facts.append(f"**Fatura:** {r.invoice_effect}")  # the service's own words
        st.markdown("  \n".join(facts))
        _result_details(r)
        exclusion_widgets.result_proof(ctx, r, today=today_local())  # RN 561 proof
        if done.card_png is not None:
            c1, c2 = st.columns([2, 1])
            c1.image(
                done.card_png,
                caption="Carteirinha virtual",
                alt="Carteirinha virtual do beneficiário, com nome, cartão e plano",
                width=428,
            )
            c2.download_button(
                "Baixar carteirinha virtual (PNG)",
                data=done.card_png,
                file_name=f"carteirinha_{first.card_number}.png",
                mime="image/png",
                icon=":material/download:",
                key=f"card_download_{first.card_number}_{r.protocol_number}",
            )
        c1, c2, _ = st.columns([1, 1, 2])
        # Only for who may open Protocolos; it opens there with this protocol chosen.
        can_open = any(p.path == PROTOCOLS_PAGE for p in navigation.pages_for(ctx.actor))
        if can_open and c1.button("Ver protocolo", icon=":material/confirmation_number:"):
            st.session_state[PROTOCOL_TO_SHOW] = r.protocol_number
            st.switch_page(PROTOCOLS_PAGE)
        c2.button(
            "Nova movimentação",
            type="primary",
            icon=":material/add:",
            on_click=_new_movement,
            args=(done.key,),
        )


def _result_details(r: MovementResult) -> None:
    """What only some movement types have: before/after, the people moved, the stay."""
    if r.kind is MovementKind.UPDATE:
        st.dataframe(
            [
                {
                    "Campo": RESULT_LABELS.get(f, f),
                    "Antes": fmt_value(f, before),
                    "Depois": fmt_value(f, after),
                }
                for f, (before, after) in r.changes.items()
            ],
            hide_index=True,
            width="stretch",
        )
    elif len(r.affected) > 1 or r.kind in (
        MovementKind.EXCLUSION,
        MovementKind.TRANSFER,
        MovementKind.PLAN_CHANGE,
    ):
        caption = {
            MovementKind.EXCLUSION: "Excluídos",
            MovementKind.TRANSFER: "Transferidos",
            MovementKind.PLAN_CHANGE: "Com o novo plano",
        }.get(r.kind, "Beneficiários")
        if r.stay_accepted:
            caption = "Em permanência (arts. 30/31)"
        elif r.scheduled:
            caption = f"{caption}, na data agendada"
        st.markdown(f"**{caption}**")
        st.dataframe(
            [
                {
                    "Nome": a.name,
                    "Carteirinha": a.card_formatted,
                    "Parentesco": Relationship(a.relationship_code).label,
                }
                for a in r.affected
            ],
            hide_index=True,
            width="stretch",
        )
    if r.stay_accepted:
        st.info(
            "Permanência (Lei 9.656, arts. 30/31): o titular e o grupo familiar seguem "
            "cobertos e faturados em lançamentos próprios (art. 30/31) "
            + (
                f"até {format_date(r.stay_until)}, quando são excluídos."
                if r.stay_until is not None
                else "por tempo indeterminado."
            )
        )
    elif r.kind is MovementKind.EXCLUSION:
        if r.stay_months is None:
            st.info(
                "O titular pode permanecer no plano por tempo indeterminado (Lei 9.656, art. 31)."
            )
        elif r.stay_until is not None:
            st.info(
                f"O titular pode permanecer no plano por {r.stay_months} meses, até "
                f"{format_date(r.stay_until)} (Lei 9.656, arts. 30/31)."
            )


# ---------------------------------------------------------------- sections shared by pages


def movement_section(
    ctx: Context,
    slots: FieldSlots,
    *,
    key: str,
    form: Callable[[], MovementRequest | None],
    card: MovementOptions | None = None,
) -> None:
    """The result card of this form's last movement, or the form; on submit the one
    movement service (`movement_apply`), its refusals next to the fields, and the result
    (with the virtual card when `card` gives the options to draw it)."""
    if show_last(ctx, key):
        return
    request = form()
    if request is None:
        return
    with user_errors(slots):
        result = movements.movement_apply(
            uow=ctx.uow(), actor=ctx.actor, request=request, now=now_utc()
        )
        png = virtual_card(ctx, result, card) if card is not None else None
        remember(ctx, key, result, card_png=png)


def inclusion_section(
    ctx: Context,
    slots: FieldSlots,
    options: MovementOptions,
    *,
    key: str,
    effective: date | None = None,
) -> None:
    """Inclusion of a holder or a dependent (individual or retroactive)."""
    movement_section(
        ctx,
        slots,
        key=key,
        form=lambda: inclusion_form(ctx, slots, options, key=key, effective=effective),
        card=options,
    )


def exclusion_section(ctx: Context, slots: FieldSlots, *, key: str) -> None:
    """Exclusion of a beneficiary (a holder takes its dependents)."""
    movement_section(ctx, slots, key=key, form=lambda: exclusion_form(ctx, slots, key=key))


def update_section(ctx: Context, slots: FieldSlots, *, key: str) -> None:
    """Correction of a beneficiary's register."""
    movement_section(ctx, slots, key=key, form=lambda: update_form(ctx, slots, key=key))


def transfer_section(
    ctx: Context, slots: FieldSlots, options: MovementOptions, *, key: str
) -> None:
    """Transfer of a holder and its dependents to another company of the group."""
    movement_section(ctx, slots, key=key, form=lambda: transfer_form(ctx, slots, options, key=key))


def plan_change_section(
    ctx: Context,
    slots: FieldSlots,
    options: MovementOptions,
    *,
    key: str,
    effective: date | None = None,
) -> None:
    """Plan change of a holder and its dependents (individual or retroactive)."""
    movement_section(
        ctx,
        slots,
        key=key,
        form=lambda: plan_change_form(ctx, slots, options, key=key, effective=effective),
    )


def reactivation_section(
    ctx: Context,
    slots: FieldSlots,
    options: MovementOptions,
    *,
    key: str,
    effective: date | None = None,
) -> None:
    """Reactivation with the same card number, or a holder's arts. 30/31 stay
    (individual or retroactive)."""
    movement_section(
        ctx,
        slots,
        key=key,
        form=lambda: reactivation_form(ctx, slots, key=key, effective=effective),
        card=options,
    )
