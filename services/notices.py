"""Notices ("Avisos"): the bell's notices, their generation and the e-mail preference.

- `notices_generate(uow=..., now=...)`: the scheduled notices due today
  (services.rules.notices says which and who gets them), for every active company or for
  the given ones, set-based: one query per kind over all companies, one for the
  recipients, one for the notices already given, one insert. Idempotent: a notice's
  `dedupe_key` is unique per user, and the insert skips what exists (two generations at
  once included). Users who want e-mail get one message per generation listing the new
  notices' titles (no personal data in it), recorded in the same transaction and
  delivered by the caller after the commit (`NoticeRun.mail`, see services/mail/outbox.py).
  The task queue runs it every hour (services/jobs/notices.py); a page draws it for the
  company in context at most once a day (components/notices_bell.py).
- `notices_batch_finished(session, ...)`: the batch's own notice, added to the
  transaction that gives the batch its final state (services/batch/processing.py).
- The actor's own notices of the company in context: `notice_unread_count` (the bell, one
  indexed count), `notice_list`, `notice_mark_read`, `notice_mark_all_read`; and its
  e-mail preference: `notice_preference_get` / `notice_preference_set` (audited).

Reading a notice is the user's own state, not company data: it is kept on the notice
(`read_at`) and not audited. Notices are derived from audited data and are not audited
either.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from config import Settings, get_settings
from data.models import (
    BatchFile,
    Beneficiary,
    Company,
    Invoice,
    Movement,
    Notice,
    NoticePreference,
    Protocol,
    User,
)
from data.uow import UnitOfWork
from services.actors import Actor, Role, permissions_of
from services.audit import audit_record
from services.mail.outbox import Queued, mail_queue
from services.numbering import local_date
from services.rules import notices as rules
from services.rules.ageing import age_limit, eligibility_end
from services.rules.eligibility import Relationship
from services.rules.errors import DomainError
from services.rules.formats import format_date, format_money, format_month_numeric
from services.rules.notices import NOTICE_LABELS, NoticeKind

# The page each kind points to (a script of components/navigation.PAGES).
LINKS: dict[NoticeKind, str] = {
    NoticeKind.CUTOFF: "pages/movements_individual.py",
    NoticeKind.INVOICE_OVERDUE: "pages/overdue_update.py",
    NoticeKind.EXCLUSION_SCHEDULED: "pages/movements_individual.py",
    NoticeKind.DEPENDENT_AGEING: "pages/report_ageing.py",
    NoticeKind.BATCH_FINISHED: "pages/batch_track.py",
}
LIST_LIMIT = 200
INSERT_CHUNK = 500
KEY_CHUNK = 500


@dataclass(frozen=True)
class NoticeView:
    id: int
    kind: str
    title: str
    body: str
    link: str | None
    created_at: datetime
    read_at: datetime | None

    @property
    def kind_label(self) -> str:
        return NOTICE_LABELS[NoticeKind(self.kind)]

    @property
    def unread(self) -> bool:
        return self.read_at is None


@dataclass(frozen=True)
class NoticeRun:
    """What one generation did: notices created per kind, and the e-mails it recorded
    (to deliver after its commit)."""

    created: dict[str, int]
    mail: list[Queued]

    @property
    def total(self) -> int:
        return sum(self.created.values())


@dataclass(frozen=True)
class _Draft:
    company_id: int
    kind: NoticeKind
    key: str
    title: str
    body: str


# ---------------------------------------------------------------- generation


def _scope(column: Any, company_ids: Collection[int] | None) -> ColumnElement[bool]:
    return column.in_(sorted(company_ids)) if company_ids is not None else true()


def _cutoff_drafts(companies: list[Any], today: date) -> list[_Draft]:
    drafts = []
    for company_id, cutoff_day, _table in companies:
        due = rules.cutoff_notice(today, cutoff_day)
        if due is None:
            continue
        when = (
            "hoje"
            if due.business_days_left == 0
            else f"em {due.business_days_left} dia(s) útil(eis)"
        )
        drafts.append(
            _Draft(
                company_id,
                NoticeKind.CUTOFF,
                rules.dedupe_key(NoticeKind.CUTOFF, company_id, company_id, due.cutoff),
                f"Data de corte em {format_date(due.cutoff)}",
                f"O corte das movimentações é {when}, em {format_date(due.cutoff)}. "
                "Movimentações recebidas até esse dia entram na fatura de competência "
                f"{format_month_numeric(due.billing_month)}; depois dele, na fatura seguinte.",
            )
        )
    return drafts


def _invoice_drafts(
    session: Session, company_ids: Collection[int] | None, today: date
) -> list[_Draft]:
    rows = session.execute(
        select(Invoice.id, Invoice.company_id, Invoice.billing_month, Invoice.due_date)
        .add_columns(Invoice.amount, Invoice.status)
        .join(Company, Company.id == Invoice.company_id)
        .where(
            Company.status == "active",
            Invoice.status == "open",
            Invoice.due_date < today,
            _scope(Invoice.company_id, company_ids),
        )
        .execution_options(all_companies=True)
    ).all()
    drafts = []
    for invoice_id, company_id, month, due, amount, status in rows:
        if not rules.invoice_overdue(status, due, today):
            continue
        drafts.append(
            _Draft(
                company_id,
                NoticeKind.INVOICE_OVERDUE,
                rules.dedupe_key(NoticeKind.INVOICE_OVERDUE, company_id, invoice_id, None),
                f"Fatura {format_month_numeric(month)} vencida",
                f"A fatura de competência {format_month_numeric(month)}, de "
                f"{format_money(amount)}, venceu em {format_date(due)} e está em aberto. "
                "Emita o boleto atualizado em Atualização de faturas vencidas.",
            )
        )
    return drafts


def _exclusion_drafts(
    session: Session, company_ids: Collection[int] | None, today: date
) -> list[_Draft]:
    start, end = rules.exclusion_window(today)
    rows = session.execute(
        select(
            Movement.protocol_id,
            Protocol.number,
            Movement.company_id,
            Movement.effective_date,
            Beneficiary.name,
            Beneficiary.relationship_code,
        )
        .join(Protocol, Protocol.id == Movement.protocol_id)
        .join(Beneficiary, Beneficiary.id == Movement.beneficiary_id)
        .join(Company, Company.id == Movement.company_id)
        .where(
            Company.status == "active",
            Movement.kind == "exclusion",
            Movement.state == "scheduled",
            Movement.effective_date >= start,
            Movement.effective_date <= end,
            _scope(Movement.company_id, company_ids),
        )
        .order_by(Movement.protocol_id, Beneficiary.relationship_code, Movement.id)
        .execution_options(all_companies=True)
    ).all()
    grouped: dict[tuple[int, str, int, date], list[str]] = defaultdict(list)
    for protocol_id, number, company_id, day, name, _rel in rows:
        if protocol_id is not None and rules.exclusion_due(day, today):
            grouped[(protocol_id, number, company_id, day)].append(name)
    drafts = []
    for (protocol_id, number, company_id, day), names in grouped.items():
        who = names[0] + (f" e mais {len(names) - 1} dependente(s)" if len(names) > 1 else "")
        drafts.append(
            _Draft(
                company_id,
                NoticeKind.EXCLUSION_SCHEDULED,
                rules.dedupe_key(NoticeKind.EXCLUSION_SCHEDULED, company_id, protocol_id, day),
                f"Exclusão agendada para {format_date(day)}",
                f"A exclusão de {who} está agendada para {format_date(day)} (protocolo "
                f"{number}). Se não for mais devida, cancele o agendamento antes dessa data "
                "em Cadastro individual.",
            )
        )
    return drafts


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _ageing_drafts(
    session: Session, companies: list[Any], company_ids: Collection[int] | None, today: date
) -> list[_Draft]:
    tables = {cid: table or {} for cid, _cutoff, table in companies}
    limits = {
        limit
        for table in tables.values()
        for rel in Relationship
        for student in (False, True)
        if (limit := age_limit(rel.value, student, table)) is not None
    }
    if not limits:
        return []
    last = today + timedelta(days=rules.DEPENDENT_NOTICE_DAYS)
    # Born so that some limit's birthday falls in the window (a day of margin each side
    # for 29 February); the rule below decides exactly.
    births = or_(
        *(
            Beneficiary.birth_date.between(
                _years_before(today, limit + 1) - timedelta(days=2),
                _years_before(last, limit + 1) + timedelta(days=2),
            )
            for limit in sorted(limits)
        )
    )
    holder = aliased(Beneficiary)
    scheduled = exists().where(
        and_(
            Movement.beneficiary_id == Beneficiary.id,
            Movement.kind == "exclusion",
            Movement.state == "scheduled",
        )
    )
    rows = session.execute(
        select(
            Beneficiary.id,
            Beneficiary.company_id,
            Beneficiary.name,
            Beneficiary.relationship_code,
            Beneficiary.is_student,
            Beneficiary.birth_date,
            holder.name,
        )
        .join(holder, holder.id == Beneficiary.holder_id)
        .where(
            Beneficiary.status == "active",
            Beneficiary.relationship_code != Relationship.HOLDER.value,
            births,
            ~scheduled,
            _scope(Beneficiary.company_id, company_ids),
        )
        .execution_options(all_companies=True)
    ).all()
    drafts = []
    for bid, company_id, name, rel, student, birth, holder_name in rows:
        table = tables.get(company_id)
        if table is None:  # an inactive company
            continue
        end = eligibility_end(birth, rel, bool(student), table)
        if end is None or not rules.ageing_due(end, today):
            continue
        limit = age_limit(rel, bool(student), table)
        drafts.append(
            _Draft(
                company_id,
                NoticeKind.DEPENDENT_AGEING,
                rules.dedupe_key(NoticeKind.DEPENDENT_AGEING, company_id, bid, end),
                f"Dependente perde a elegibilidade em {format_date(end)}",
                f"{name} ({Relationship(rel).label.lower()} de {holder_name}) passa do "
                f"limite de idade do contrato ({limit} anos) e deixa de ser elegível em "
                f"{format_date(end)}. Informe a exclusão em Perda de elegibilidade.",
            )
        )
    return drafts


@dataclass(frozen=True)
class _Recipient:
    user_id: int
    permissions: frozenset[str]
    email: str
    wants_email: bool


def _recipients(
    session: Session, company_ids: Collection[int] | None
) -> dict[int, list[_Recipient]]:
    """The active users of each company (account managers are no company's users)."""
    rows = session.execute(
        select(User.id, User.company_id, User.role, User.permissions, User.email)
        .add_columns(func.coalesce(NoticePreference.email, False))
        .outerjoin(NoticePreference, NoticePreference.user_id == User.id)
        .where(
            User.status == "active",
            User.role != Role.ACCOUNT_MANAGER.value,
            User.company_id.is_not(None),
            _scope(User.company_id, company_ids),
        )
    ).all()
    found: dict[int, list[_Recipient]] = defaultdict(list)
    for user_id, company_id, role, stored, email, wants in rows:
        perms = frozenset(p.value for p in permissions_of(role, stored))
        found[company_id].append(_Recipient(user_id, perms, email or "", bool(wants)))
    return found


def _existing(session: Session, keys: list[str]) -> set[tuple[int, str]]:
    found: set[tuple[int, str]] = set()
    unique = sorted(set(keys))
    for start in range(0, len(unique), KEY_CHUNK):
        found.update(
            (u, k)
            for u, k in session.execute(
                select(Notice.user_id, Notice.dedupe_key).where(
                    Notice.dedupe_key.in_(unique[start : start + KEY_CHUNK])
                )
            )
        )
    return found


def _insert(session: Session, rows: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """Insert the notices no user has yet; (id, user id) of those inserted (a row another
    generation inserted meanwhile is skipped by the unique key, not an error)."""
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    created: list[tuple[int, int]] = []
    for start in range(0, len(rows), INSERT_CHUNK):
        statement = (
            insert(Notice)
            .values(rows[start : start + INSERT_CHUNK])
            .on_conflict_do_nothing(index_elements=["user_id", "dedupe_key"])
            .returning(Notice.id, Notice.user_id)
        )
        created.extend((i, u) for i, u in session.execute(statement).all())
    return created


def _mail_new(
    session: Session,
    created: list[tuple[int, int]],
    titles: dict[int, str],
    wanted: dict[int, _Recipient],
    now: datetime,
    settings: Settings | Any,
) -> list[Queued]:
    """One message per user who wants e-mail, listing the titles of its new notices."""
    per_user: dict[int, list[str]] = defaultdict(list)
    for notice_id, user_id in created:
        if user_id in wanted:
            per_user[user_id].append(titles[notice_id])
    queued = []
    link = settings.link_base()
    for user_id, items in sorted(per_user.items()):
        who = wanted[user_id]
        if not who.email.strip():
            continue
        lines = "\n".join(f"- {t}" for t in items)
        queued.append(
            mail_queue(
                session,
                to=who.email,
                subject=f"Portal Empresa: {len(items)} novo(s) aviso(s)",
                body=(
                    "Você tem novos avisos no Portal Empresa:\n\n"
                    f"{lines}\n\n"
                    f"Veja os detalhes na página Avisos do portal: {link}\n\n"
                    "Você recebe estes e-mails porque ativou o envio por e-mail em Avisos; "
                    "desative lá para receber os avisos só no portal."
                ),
                now=now,
                settings=settings,
            )
        )
    return queued


def notices_generate(
    *,
    uow: UnitOfWork,
    now: datetime,
    today: date | None = None,
    company_ids: Collection[int] | None = None,
    settings: Settings | Any | None = None,
) -> NoticeRun:
    """Create the scheduled notices due `today` (default: the operator's date of `now`)
    for every active company, or for `company_ids`; nothing twice. The e-mails it
    records are for the caller to deliver after it returns (`NoticeRun.mail`)."""
    settings = settings or get_settings()
    today = today or local_date(now)
    with uow.for_company(None) as u:
        session = u.session
        companies = session.execute(
            select(Company.id, Company.cutoff_day, Company.eligibility).where(
                Company.status == "active", _scope(Company.id, company_ids)
            )
        ).all()
        if not companies:
            return NoticeRun({}, [])
        drafts = [
            *_cutoff_drafts(list(companies), today),
            *_invoice_drafts(session, company_ids, today),
            *_exclusion_drafts(session, company_ids, today),
            *_ageing_drafts(session, list(companies), company_ids, today),
        ]
        recipients = _recipients(session, company_ids)
        planned: list[tuple[_Draft, _Recipient, str]] = []
        for draft in drafts:
            for who in recipients.get(draft.company_id, []):
                audience = rules.audience_of(draft.kind, who.permissions)
                if audience is not None:
                    planned.append((draft, who, audience))
        have = _existing(session, [d.key for d, _w, _a in planned])
        rows = [
            _row(d.company_id, who.user_id, d, audience, now)
            for d, who, audience in planned
            if (who.user_id, d.key) not in have
        ]
        created = _insert(session, rows)
        kinds: dict[str, int] = defaultdict(int)
        titles: dict[int, str] = {}
        if created:
            for notice_id, kind, title in session.execute(
                select(Notice.id, Notice.kind, Notice.title).where(
                    Notice.id.in_([i for i, _u in created])
                )
            ):
                kinds[kind] += 1
                titles[notice_id] = title
        wanted = {
            who.user_id: who for group in recipients.values() for who in group if who.wants_email
        }
        mail = _mail_new(session, created, titles, wanted, now, settings)
        u.commit()
    return NoticeRun(dict(kinds), mail)


def _row(
    company_id: int, user_id: int, draft: _Draft, audience: str, now: datetime
) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "company_id": company_id,
        "kind": draft.kind.value,
        "audience": audience,
        "dedupe_key": draft.key,
        "title": draft.title[:200],
        "body": draft.body,
        "link": LINKS[draft.kind],
        "created_at": now,
        "read_at": None,
    }


def notices_batch_finished(
    session: Session, *, batch: BatchFile, now: datetime, settings: Settings | Any | None = None
) -> list[Queued]:
    """The notice of a batch whose application ended, to the user who sent it (if still
    active), added to the caller's transaction; the e-mail it records (when the user
    wants e-mail) is for the caller to deliver after its commit."""
    row = session.execute(
        select(User.id, User.email, func.coalesce(NoticePreference.email, False))
        .outerjoin(NoticePreference, NoticePreference.user_id == User.id)
        .where(User.id == batch.user_id, User.status == "active")
    ).one_or_none()
    if row is None:
        return []
    user_id, email, wants = row
    refused = batch.refused_lines or 0
    draft = _Draft(
        batch.company_id,
        NoticeKind.BATCH_FINISHED,
        rules.dedupe_key(NoticeKind.BATCH_FINISHED, batch.company_id, batch.id, None),
        f"Lote concluído: {batch.file_name}"[:200],
        f"O arquivo {batch.file_name}, recebido em {format_date(local_date(batch.received_at))}"
        f", terminou de ser aplicado: {batch.accepted_lines or 0} linha(s) aplicada(s), "
        f"{refused} recusada(s). Veja cada linha em Acompanhar lotes.",
    )
    created = _insert(session, [_row(batch.company_id, user_id, draft, rules.MOVEMENTS, now)])
    if not created or not wants:
        return []
    settings = settings or get_settings()
    who = _Recipient(user_id, frozenset(), email or "", True)
    return _mail_new(session, created, {created[0][0]: draft.title}, {user_id: who}, now, settings)


# ---------------------------------------------------------------- the actor's notices


def _mine(actor: Actor, company_id: int) -> ColumnElement[bool]:
    """The actor's own notices of the company, through a permission it still holds."""
    return and_(
        Notice.user_id == actor.user_id,
        Notice.company_id == company_id,
        Notice.audience.in_(sorted(p.value for p in actor.permissions)),
    )


def _company(uow: UnitOfWork, actor: Actor) -> int:
    company_id = uow.require_company()
    actor.require(None, company_id)
    return company_id


def notice_unread_count(*, uow: UnitOfWork, actor: Actor) -> int:
    """How many of the actor's notices of the company in context are unread (the bell)."""
    company_id = _company(uow, actor)
    with uow:
        return int(
            uow.session.scalar(
                select(func.count())
                .select_from(Notice)
                .where(_mine(actor, company_id), Notice.read_at.is_(None))
            )
            or 0
        )


def notice_list(*, uow: UnitOfWork, actor: Actor, limit: int = LIST_LIMIT) -> list[NoticeView]:
    """The actor's notices of the company in context: unread first, newest first."""
    company_id = _company(uow, actor)
    with uow:
        rows = uow.session.execute(
            select(
                Notice.id,
                Notice.kind,
                Notice.title,
                Notice.body,
                Notice.link,
                Notice.created_at,
                Notice.read_at,
            )
            .where(_mine(actor, company_id))
            .order_by(Notice.read_at.is_not(None), Notice.created_at.desc(), Notice.id.desc())
            .limit(limit)
        ).all()
    return [NoticeView(*r) for r in rows]


def notice_mark_read(*, uow: UnitOfWork, actor: Actor, notice_id: int, now: datetime) -> bool:
    """Mark one of the actor's notices read; False when it is not one of them (or was
    already read)."""
    company_id = _company(uow, actor)
    with uow:
        done = uow.session.execute(
            update(Notice)
            .where(_mine(actor, company_id), Notice.id == notice_id, Notice.read_at.is_(None))
            .values(read_at=now)
            .execution_options(synchronize_session=False)
        )
        uow.commit()
        return bool(getattr(done, "rowcount", 0))


def notice_mark_all_read(*, uow: UnitOfWork, actor: Actor, now: datetime) -> int:
    """Mark every unread notice of the actor in the company in context read; how many."""
    company_id = _company(uow, actor)
    with uow:
        done = uow.session.execute(
            update(Notice)
            .where(_mine(actor, company_id), Notice.read_at.is_(None))
            .values(read_at=now)
            .execution_options(synchronize_session=False)
        )
        uow.commit()
        return int(getattr(done, "rowcount", 0) or 0)


# ---------------------------------------------------------------- e-mail preference


def notice_preference_get(*, uow: UnitOfWork, actor: Actor) -> bool:
    """Whether the actor gets its notices by e-mail too."""
    with uow:
        return bool(
            uow.session.scalar(
                select(NoticePreference.email).where(NoticePreference.user_id == actor.user_id)
            )
        )


def notice_preference_set(*, uow: UnitOfWork, actor: Actor, email: bool, now: datetime) -> bool:
    """Turn the actor's notices by e-mail on or off (audited); the new value."""
    if actor.user_id <= 0:
        raise DomainError("Só usuários do portal têm preferência de avisos.")
    with uow:
        session = uow.session
        address = session.scalar(
            select(User.email).where(User.id == actor.user_id, User.status == "active")
        )
        if address is None:
            raise DomainError("Usuário não encontrado ou inativo.")
        if email and not address.strip():
            raise DomainError(
                "Seu usuário não tem e-mail cadastrado: peça ao usuário master que o informe.",
                "email",
            )
        row = session.get(NoticePreference, actor.user_id)
        before = bool(row.email) if row is not None else False
        if row is None:
            session.add(NoticePreference(user_id=actor.user_id, email=email, updated_at=now))
        else:
            row.email = email
            row.updated_at = now
        audit_record(
            session,
            user_id=actor.user_id,
            company_id=actor.home_company_id if not actor.is_account_manager else None,
            action="notice_preference",
            entity="app_user",
            entity_id=actor.user_id,
            before={"notice_email": before},
            after={"notice_email": email},
            now=now,
        )
        uow.commit()
    return email
