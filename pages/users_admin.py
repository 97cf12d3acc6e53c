"""Empresa > Usuários: add users (invited by e-mail), edit, inactivate and reactivate."""

import pandas as pd
import streamlit as st

from components.context import get_context, now_utc, portal_base_url
from components.errors import FieldSlots, user_errors
from components.safe_text import plain
from services.access import users
from services.actors import PERMISSION_LABELS, Permission
from services.rules.formats import format_datetime

ctx = get_context(Permission.USER_ADMIN)
st.title("Usuários")
st.caption(plain(ctx.company.label))

done = st.session_state.pop("users_done", None)
if done:
    st.success(done)
warning = st.session_state.pop("users_warning", None)
if warning:
    st.warning(warning)


def permission_boxes(
    prefix: str, granted: frozenset[Permission], changeable: frozenset[Permission]
) -> list[Permission]:
    """One checkbox per area; those the service says this actor may not change are disabled."""
    chosen = []
    cols = st.columns(3)
    for i, perm in enumerate(Permission):
        if cols[i % 3].checkbox(
            PERMISSION_LABELS[perm],
            value=perm in granted,
            key=f"{prefix}_{perm.value}",
            disabled=perm not in changeable,
            help=None if perm in grantable else "Você não tem esta permissão para conceder.",
        ):
            chosen.append(perm)
    return chosen


grantable = users.user_grantable_permissions(ctx.actor)
rows: list[users.UserRow] = []
with user_errors():
    rows = users.user_list(uow=ctx.uow(), actor=ctx.actor)

list_tab, add_tab, edit_tab = st.tabs(
    ["Usuários da empresa", "Novo usuário", "Alterar ou inativar"]
)

with list_tab:
    show_inactive = st.toggle("Mostrar inativos", value=True, key="users_show_inactive")
    shown = [r for r in rows if show_inactive or r.status != "inactive"]
    st.caption(f"{len(shown)} usuário(s) · {sum(r.status == 'active' for r in rows)} ativo(s)")
    st.dataframe(
        pd.DataFrame(
            {
                "Código": [r.user_code for r in shown],
                "Nome": [r.name for r in shown],
                "CPF": [r.cpf or "" for r in shown],
                "E-mail": [r.email for r in shown],
                "Perfil": [r.role_label for r in shown],
                "Permissões": [
                    "Todas"
                    if r.is_master
                    else ", ".join(PERMISSION_LABELS[p] for p in Permission if p in r.permissions)
                    or "Nenhuma"
                    for r in shown
                ],
                "Situação": [r.status_label for r in shown],
                "Último acesso": [format_datetime(r.last_login_at) or "Nunca" for r in shown],
            }
        ),
        hide_index=True,
        width="stretch",
    )

with add_tab:
    st.markdown(
        "O novo usuário recebe por e-mail o **código de usuário** e o convite para o "
        "primeiro acesso, em que define a própria senha."
    )
    slots = FieldSlots()
    nonce = st.session_state.get("users_add_nonce", 0)
    with st.form(f"user_add_{nonce}"):
        name = st.text_input("Nome completo *", max_chars=200)
        slots.add("name")
        c1, c2 = st.columns(2)
        cpf = c1.text_input("CPF *", max_chars=14, placeholder="000.000.000-00")
        with c1:
            slots.add("cpf")
        email = c2.text_input("E-mail *", max_chars=254, placeholder="nome@empresa.com.br")
        with c2:
            slots.add("email")
        master = False
        if users.user_may_create_master(ctx.actor):
            master = st.checkbox(
                "Usuário master (todas as permissões, administra os usuários)",
                key=f"user_add_master_{nonce}",
            )
        st.markdown("**Permissões por área**")
        chosen = permission_boxes(f"user_add_{nonce}", frozenset(), grantable)
        submitted = st.form_submit_button("Criar usuário e enviar convite", type="primary")
    if submitted:
        with user_errors(slots):
            row = users.user_add(
                uow=ctx.uow(),
                actor=ctx.actor,
                name=name,
                cpf=cpf,
                email=email,
                permissions=chosen,
                master=master,
                now=now_utc(),
                base_url=portal_base_url(),
            )
            if row.invitation_delivered is False:
                st.session_state["users_done"] = (
                    f"Usuário **{row.user_code}** criado para {plain(row.name)}."
                )
                st.session_state["users_warning"] = (
                    f"Não foi possível enviar o convite para {plain(row.email)}, tente "
                    "novamente: escolha o usuário em 'Alterar ou inativar' e use 'Reenviar "
                    "convite'."
                )
            else:
                st.session_state["users_done"] = (
                    f"Usuário **{row.user_code}** criado para {plain(row.name)}. O convite "
                    f"para o primeiro acesso foi enviado para {plain(row.email)}."
                )
            st.session_state["users_add_nonce"] = nonce + 1
            st.rerun()

with edit_tab:
    if not rows:
        st.info("Esta empresa ainda não tem usuários.")
    else:
        by_id = {r.id: r for r in rows}
        picked = st.selectbox(
            "Usuário",
            list(by_id),
            format_func=lambda i: (
                f"{by_id[i].user_code} · {by_id[i].name} ({by_id[i].status_label})"
            ),
            index=None,
            placeholder="Escolha o usuário",
            key="users_edit_pick",
        )
        if picked is not None:
            row = by_id[picked]
            rights = users.user_edit_rights(ctx.actor, row)
            protected = not rights.edit
            for note in rights.notes:
                st.info(note)
            edit_slots = FieldSlots()
            with st.form(f"user_edit_{row.id}_{st.session_state.get('users_edit_nonce', 0)}"):
                e_name = st.text_input("Nome completo *", row.name, max_chars=200)
                edit_slots.add("name")
                c1, c2 = st.columns(2)
                e_cpf = c1.text_input("CPF *", row.cpf or "", max_chars=14)
                with c1:
                    edit_slots.add("cpf")
                e_email = c2.text_input("E-mail *", row.email, max_chars=254)
                with c2:
                    edit_slots.add("email")
                if row.is_master:
                    st.caption("Usuário master: tem todas as permissões.")
                    e_perms: list[Permission] = []
                else:
                    st.markdown("**Permissões por área**")
                    e_perms = permission_boxes(
                        f"user_edit_{row.id}", row.permissions, rights.changeable
                    )
                save = st.form_submit_button(
                    "Salvar alterações", type="primary", disabled=protected
                )
            if save:
                with user_errors(edit_slots):
                    users.user_update(
                        uow=ctx.uow(),
                        actor=ctx.actor,
                        user_id=row.id,
                        name=e_name,
                        cpf=e_cpf,
                        email=e_email,
                        permissions=e_perms,
                        now=now_utc(),
                    )
                    st.session_state["users_done"] = f"Usuário {row.user_code} alterado."
                    st.session_state["users_edit_nonce"] = (
                        st.session_state.get("users_edit_nonce", 0) + 1
                    )
                    st.rerun()
            st.divider()
            if row.status == "pending":
                st.markdown(
                    "Este usuário ainda **não fez o primeiro acesso**: ele ativa o acesso pelo "
                    "link do convite enviado ao e-mail dele, válido por 7 dias. Reenvie o "
                    "convite se ele não o recebeu ou se expirou (o anterior deixa de valer)."
                )
                if st.button(
                    "Reenviar convite",
                    icon=":material/forward_to_inbox:",
                    key=f"user_invite_{row.id}",
                    disabled=protected,
                ):
                    with user_errors():
                        sent = users.user_invitation_resend(
                            uow=ctx.uow(),
                            actor=ctx.actor,
                            user_id=row.id,
                            now=now_utc(),
                            base_url=portal_base_url(),
                        )
                        if sent.invitation_delivered is False:
                            st.session_state["users_warning"] = (
                                "Não foi possível enviar o convite, tente novamente."
                            )
                        else:
                            st.session_state["users_done"] = (
                                f"Convite reenviado a {plain(row.email)}; o anterior deixou "
                                "de valer."
                            )
                        st.rerun()
            if row.status == "inactive":
                st.markdown("Este usuário está **inativo**: não consegue entrar no portal.")
                if st.button(
                    "Reativar usuário",
                    icon=":material/person_check:",
                    key=f"user_reactivate_{row.id}",
                    disabled=protected,
                ):
                    with user_errors():
                        users.user_set_active(
                            uow=ctx.uow(),
                            actor=ctx.actor,
                            user_id=row.id,
                            active=True,
                            now=now_utc(),
                        )
                        st.session_state["users_done"] = f"Usuário {row.user_code} reativado."
                        st.rerun()
            else:
                st.markdown(
                    "Ao inativar, o usuário não consegue mais entrar e as sessões abertas "
                    "dele são encerradas."
                )
                confirm = st.checkbox(
                    f"Confirmo a inativação do usuário {row.user_code} · {plain(row.name)}",
                    key=f"user_inactivate_confirm_{row.id}",
                    disabled=not rights.inactivate,
                )
                if st.button(
                    "Inativar usuário",
                    icon=":material/person_off:",
                    key=f"user_inactivate_{row.id}",
                    disabled=not rights.inactivate or not confirm,
                ):
                    with user_errors():
                        users.user_set_active(
                            uow=ctx.uow(),
                            actor=ctx.actor,
                            user_id=row.id,
                            active=False,
                            now=now_utc(),
                        )
                        st.session_state["users_done"] = f"Usuário {row.user_code} inativado."
                        st.rerun()
