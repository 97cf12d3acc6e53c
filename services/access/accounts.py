"""Access: login with lockout, first access by e-mailed link, password reset, user code
reminder.

Nothing here tells a visitor whether an account exists: login failures share one
message, and the "forgot" flows always answer the same way. Nothing a visitor types
(codes, CNPJ, e-mail) creates or activates an account by itself: the first access goes
through a single-use link e-mailed to the registered address (see "first access").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import bcrypt
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from config import get_settings
from data.models import (
    AccountManagerCompany,
    Company,
    Operator,
    PasswordResetToken,
    User,
    UserSession,
)
from data.uow import UnitOfWork
from services.access import rate_limit
from services.access.rate_limit import rate_limit_take
from services.actors import ALL_PERMISSIONS, Actor, Role, permissions_of
from services.audit import audit_record
from services.mail.outbox import Queued, mail_deliver, mail_queue
from services.numbering import counter_take
from services.rules.documents import (
    DocumentType,
    format_company_document,
    is_valid_company_document,
    is_valid_email,
    normalize_document,
)
from services.rules.errors import DomainError, FieldErrors
from services.rules.passwords import password_problems

NEUTRAL_LOGIN_MESSAGE = (
    "Código de usuário ou senha inválidos. Após 5 tentativas sem sucesso o acesso "
    "fica bloqueado por 15 minutos."
)
PAIR_MISMATCH_MESSAGE = "Código da empresa e CNPJ/CAEPF não conferem com o nosso cadastro."
FIRST_ACCESS_DONE_MESSAGE = (
    "Esta empresa já fez o primeiro acesso. Use 'Esqueci meu usuário' para recuperar o código."
)
INVALID_RESET_MESSAGE = (
    "Link de redefinição inválido ou expirado. Peça um novo em 'Esqueci minha senha'."
)

# Tests lower this for speed; production hashes use cost 12.
BCRYPT_ROUNDS = 12
MAX_FAILED_ATTEMPTS = 5
LOCK_DURATION = timedelta(minutes=15)
RESET_TOKEN_VALIDITY = timedelta(minutes=30)
USER_CODE_COUNTER = "user_code"
# Company users get 6-digit codes starting with "1".
FIRST_COMPANY_USER_CODE = 100000
LAST_COMPANY_USER_CODE = 199999
# bcrypt only reads the first 72 bytes (bcrypt 5 refuses longer input).
_BCRYPT_MAX_BYTES = 72

_dummy_hashes: dict[int, str] = {}


@dataclass(frozen=True)
class FirstAccessResult:
    user_code: str
    name: str


# ---------------------------------------------------------------- passwords


def hash_password(password: str) -> str:
    """The bcrypt hash of `password` (cost BCRYPT_ROUNDS).

    A password over 72 bytes is refused (ValueError): bcrypt would read only its start.
    Every flow that sets a password refuses it first with a message (`password_problems`)."""
    raw = password.encode("utf-8")
    if len(raw) > _BCRYPT_MAX_BYTES:
        raise ValueError("password longer than bcrypt's 72 bytes")
    salt = bcrypt.gensalt(rounds=BCRYPT_ROUNDS)
    return bcrypt.hashpw(raw, salt).decode("ascii")


def verify_password(password: str, password_hash: str | None) -> bool:
    """True when `password` matches the bcrypt `password_hash`; False for a missing hash.

    No hash is made from more than 72 bytes, so a longer password never matches (it is
    not cut to its first 72 bytes: "exact72" + "x" is another password). A hash made by
    an older version from a longer password's first 72 bytes no longer matches either:
    that user resets the password ("Esqueci minha senha")."""
    raw = password.encode("utf-8")
    if not password_hash or len(raw) > _BCRYPT_MAX_BYTES:
        return False
    try:
        return bcrypt.checkpw(raw, password_hash.encode("ascii"))
    except ValueError:
        return False


def _dummy_hash() -> str:
    """A hash to check against when there is no user, so timing reveals nothing."""
    if BCRYPT_ROUNDS not in _dummy_hashes:
        _dummy_hashes[BCRYPT_ROUNDS] = hash_password(secrets.token_urlsafe(16))
    return _dummy_hashes[BCRYPT_ROUNDS]


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------- actors


def _actor_from_user(session: Session, user: User) -> Actor:
    role = Role(user.role)
    if role is Role.ACCOUNT_MANAGER:
        portfolio = session.scalars(
            select(Company.id)
            .join(AccountManagerCompany, AccountManagerCompany.company_id == Company.id)
            .where(AccountManagerCompany.user_id == user.id)
            .order_by(Company.code)
        ).all()
        return Actor(
            user_id=user.id,
            user_code=user.user_code,
            name=user.name,
            role=role,
            permissions=ALL_PERMISSIONS,
            company_ids=frozenset(portfolio),
            home_company_id=portfolio[0] if portfolio else None,
            email=user.email,
            session_epoch=user.session_epoch or 0,
        )
    company_ids: set[int] = set()
    if user.company_id is not None:
        company_ids.add(user.company_id)
        group_id = session.scalar(select(Company.group_id).where(Company.id == user.company_id))
        if group_id is not None:
            company_ids.update(
                session.scalars(select(Company.id).where(Company.group_id == group_id)).all()
            )
    permissions = permissions_of(user.role, user.permissions)
    return Actor(
        user_id=user.id,
        user_code=user.user_code,
        name=user.name,
        role=role,
        permissions=permissions,
        company_ids=frozenset(company_ids),
        home_company_id=user.company_id,
        email=user.email,
        session_epoch=user.session_epoch or 0,
    )


def _count_failed_attempt(
    session: Session, user: User, now: datetime, *, where: str | None = None
) -> bool:
    """One more wrong password for `user` (login or Alterar senha); True when it locks.

    MAX_FAILED_ATTEMPTS in a row lock the user for LOCK_DURATION, with an audit record."""
    user.failed_attempts = (user.failed_attempts or 0) + 1
    if user.failed_attempts < MAX_FAILED_ATTEMPTS:
        return False
    user.locked_until = now + LOCK_DURATION
    after: dict[str, object] = {
        "failed_attempts": user.failed_attempts,
        "locked_until": user.locked_until,
    }
    if where:
        after["where"] = where
    audit_record(
        session,
        user_id=user.id,
        company_id=user.company_id,
        action="login_locked",
        entity="user",
        entity_id=user.id,
        before=None,
        after=after,
        now=now,
    )
    return True


def _is_locked(user: User, now: datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


# ---------------------------------------------------------------- login


def auth_login(
    *, uow: UnitOfWork, user_code: str, password: str, now: datetime, client: str = ""
) -> Actor:
    """Log in by user code and password; 5 failures in a row lock the user for 15 minutes.

    With `client` (the login page always gives it), a client that failed 50 times in
    15 minutes, whatever the user codes, is refused until the window passes."""
    if client and rate_limit.failures_exceeded(uow=uow, form="login", client=client, now=now):
        raise DomainError(rate_limit.too_many_message(rate_limit.LOGIN_FAILURES_PER_CLIENT.window))
    try:
        return _auth_login(uow=uow, user_code=user_code, password=password, now=now)
    except DomainError:
        if client:
            rate_limit.failure_note(uow=uow, form="login", client=client, now=now)
        raise


def _auth_login(*, uow: UnitOfWork, user_code: str, password: str, now: datetime) -> Actor:
    """The login itself (see `auth_login`).

    The bcrypt check (a quarter of a second at cost 12) runs outside any transaction: on
    SQLite every transaction holds the database's write lock, and on PostgreSQL the
    user's row lock would queue the user's other logins behind it."""
    code = user_code.strip()
    with uow:
        stored = uow.session.execute(
            select(User.id, User.password_hash).where(User.user_code == code)
        ).one_or_none()
    checked_hash = stored.password_hash if stored is not None else None
    password_ok = verify_password(password, checked_hash or _dummy_hash()) and bool(checked_hash)
    if stored is None:
        raise DomainError(NEUTRAL_LOGIN_MESSAGE)
    with uow:
        session = uow.session
        user = session.get(User, stored.id, with_for_update=True)
        if user is None:
            raise DomainError(NEUTRAL_LOGIN_MESSAGE)
        if user.password_hash != checked_hash:
            # The password changed between the check and the lock: check again.
            password_ok = verify_password(password, user.password_hash)
        if _is_locked(user, now):
            # Refused without touching the row, so the lock is not extended.
            raise DomainError(NEUTRAL_LOGIN_MESSAGE)
        if user.locked_until is not None:
            # The lock expired: a fresh series of attempts starts.
            user.locked_until = None
            user.failed_attempts = 0
        if not password_ok or user.status != "active":
            _count_failed_attempt(session, user, now)
            uow.commit()
            raise DomainError(NEUTRAL_LOGIN_MESSAGE)
        user.failed_attempts = 0
        user.last_login_at = now
        audit_record(
            session,
            user_id=user.id,
            company_id=user.company_id,
            action="login",
            entity="user",
            entity_id=user.id,
            before=None,
            after={"last_login_at": now},
            now=now,
        )
        actor = replace(
            _actor_from_user(session, user), session_id=_session_open(session, user, now)
        )
        uow.commit()
        return actor


SESSION_ENDED_MESSAGE = (
    "Sua sessão foi encerrada: a senha foi alterada, o usuário foi inativado ou houve "
    "logout. Entre novamente."
)
_SESSION_SEPARATOR = ":"
# A session's last step is written at most this often (every step would write).
SESSION_TOUCH_INTERVAL = timedelta(seconds=60)


def session_token(actor: Actor) -> str:
    """What the login cookie carries: user code, session epoch and the session's id."""
    return _SESSION_SEPARATOR.join((actor.user_code, str(actor.session_epoch), actor.session_id))


# The login cookie: "<session token>.<expiry, Unix seconds>.<HMAC-SHA256 of both>".
_COOKIE_SEPARATOR = "."


def _cookie_signature(payload: str) -> str:
    key = get_settings().cookie_key.encode("utf-8")
    digest = hmac.new(key, payload.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def session_cookie_value(actor: Actor, now: datetime) -> tuple[str, int]:
    """The login cookie for the actor's session, and its lifetime in seconds.

    It carries only `session_token(actor)` (user code, session epoch, the session's random
    id, whose hash the server keeps) and its own expiry, signed with PORTAL_COOKIE_KEY.
    The server-side session stays the authority: a cookie is honoured only while its
    `user_session` row lives (see `actor_from_session_token`)."""
    lifetime = max(1, int(get_settings().cookie_expiry_days * 24 * 3600))
    payload = _COOKIE_SEPARATOR.join((session_token(actor), str(int(now.timestamp()) + lifetime)))
    return _COOKIE_SEPARATOR.join((payload, _cookie_signature(payload))), lifetime


def session_token_from_cookie(value: str, now: datetime) -> str | None:
    """The session token a login cookie carries, or None when the cookie is not one this
    server signed (another key, altered, malformed) or its own expiry has passed."""
    payload, _, signature = value.strip().rpartition(_COOKIE_SEPARATOR)
    token, _, expiry = payload.rpartition(_COOKIE_SEPARATOR)
    if not token or not expiry.isdigit():
        return None
    if not hmac.compare_digest(signature, _cookie_signature(payload)):
        return None
    if int(expiry) <= now.timestamp():
        return None
    return token


def _session_open(session: Session, user: User, now: datetime) -> str:
    sid = secrets.token_urlsafe(24)
    session.add(
        UserSession(id_hash=_token_hash(sid), user_id=user.id, created_at=now, last_seen_at=now)
    )
    return sid


def sessions_end_all(
    session: Session, user: User, now: datetime, reason: str, keep: str = ""
) -> None:
    """End every session of `user` (but `keep`, the session id making the change)."""
    user.session_epoch = (user.session_epoch or 0) + 1
    query = update(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None)
    )
    if keep:
        query = query.where(UserSession.id_hash != _token_hash(keep))
    session.execute(query.values(ended_at=now, end_reason=reason))


def _session_alive(session: Session, user: User, sid: str, now: datetime) -> bool:
    """The session exists, is the user's, has not ended and has not been idle too long;
    its last step is recorded (at most once a minute)."""
    row = session.get(UserSession, _token_hash(sid))
    if row is None or row.user_id != user.id or row.ended_at is not None:
        return False
    idle = timedelta(minutes=get_settings().session_idle_minutes)
    if now - row.last_seen_at > idle:
        row.ended_at = now
        row.end_reason = "expired"
        session.commit()
        return False
    if now - row.last_seen_at > SESSION_TOUCH_INTERVAL:
        row.last_seen_at = now
        session.commit()
    return True


def actor_for_user(*, uow: UnitOfWork, user_code: str, now: datetime | None = None) -> Actor | None:
    """The actor of an active, unlocked user, by user code (command line, tests)."""
    now = now or datetime.now(UTC)
    with uow:
        user = uow.session.scalars(
            select(User).where(User.user_code == user_code.strip())
        ).one_or_none()
        if user is None or user.status != "active" or _is_locked(user, now):
            return None
        return _actor_from_user(uow.session, user)


def actor_from_session_token(
    *, uow: UnitOfWork, token: str, now: datetime | None = None
) -> Actor | None:
    """Re-authentication from the login cookie, which carries `session_token(actor)`.

    Nobody is logged in by a cookie whose session has ended (logout, password change,
    inactivation), has been idle longer than allowed, or that is malformed.
    """
    now = now or datetime.now(UTC)
    parts = token.strip().split(_SESSION_SEPARATOR)
    if len(parts) != 3 or not parts[1].isdigit() or len(parts[2]) < 16:
        return None
    code, epoch, sid = parts
    with uow:
        user = uow.session.scalars(select(User).where(User.user_code == code)).one_or_none()
        if (
            user is None
            or user.status != "active"
            or _is_locked(user, now)
            or (user.session_epoch or 0) != int(epoch)
            or not _session_alive(uow.session, user, sid, now)
        ):
            return None
        return replace(_actor_from_user(uow.session, user), session_id=sid)


def actor_refresh(*, uow: UnitOfWork, actor: Actor, now: datetime | None = None) -> Actor | None:
    """The actor as the database has it now, or None when its session has ended.

    Called on every step of a logged-in session: an inactivated user, one whose
    password changed in another session, or a session ended by logout is out at once;
    changed permissions and portfolios take effect at once.
    """
    now = now or datetime.now(UTC)
    with uow:
        user = uow.session.get(User, actor.user_id)
        if (
            user is None
            or user.status != "active"
            or (user.session_epoch or 0) != actor.session_epoch
        ):
            return None
        if actor.session_id and not _session_alive(uow.session, user, actor.session_id, now):
            return None
        return replace(_actor_from_user(uow.session, user), session_id=actor.session_id)


def session_end(*, uow: UnitOfWork, actor: Actor, now: datetime, reason: str = "logout") -> None:
    """End the actor's session (logout): its cookie no longer logs anyone in."""
    if not actor.session_id:
        return
    with uow:
        uow.session.execute(
            update(UserSession)
            .where(
                UserSession.id_hash == _token_hash(actor.session_id),
                UserSession.ended_at.is_(None),
            )
            .values(ended_at=now, end_reason=reason)
        )
        uow.commit()


# ---------------------------------------------------------------- user codes


def user_code_next(session: Session) -> str:
    """A new company user code from the locked counter row (never count + 1)."""
    existing = session.scalars(select(User.user_code).where(User.user_code.like("1_____"))).all()
    # Where the counter does not exist yet, it starts after the highest code in use.
    start = max([int(c) for c in existing if c.isdigit()] + [FIRST_COMPANY_USER_CODE])
    while True:
        value = counter_take(session, USER_CODE_COUNTER, start=start)
        if value > LAST_COMPANY_USER_CODE:
            raise DomainError("Não há mais códigos de usuário disponíveis. Contate a operadora.")
        code = f"{value:06d}"
        if not session.scalar(select(func.count()).where(User.user_code == code)):
            return code


# ---------------------------------------------------------------- field checks


def _email_problem(email: str) -> str | None:
    if not email.strip():
        return "Informe o e-mail."
    if not is_valid_email(email.strip()):
        return "E-mail inválido: confira o endereço informado (exemplo: nome@empresa.com.br)."
    return None


def _password_field_errors(
    errors: dict[str, str], password: str, confirmation: str, user_code: str = ""
) -> None:
    problems = password_problems(password, user_code=user_code)
    if problems:
        errors["password"] = " ".join(problems)
    if not confirmation:
        errors["confirmation"] = "Repita a senha no campo de confirmação."
    elif confirmation != password:
        errors["confirmation"] = "A confirmação não é igual à senha."


def _company_document_problem(document: str, document_type: str) -> str | None:
    if document_type not in {t.value for t in DocumentType}:
        return "Escolha o tipo de documento: CNPJ ou CAEPF."
    if not normalize_document(document):
        return f"Informe o {document_type} da empresa."
    if not is_valid_company_document(document, document_type):
        if document_type == DocumentType.CNPJ:
            return "CNPJ inválido: confira os 14 caracteres informados."
        return "CAEPF inválido: confira os 14 dígitos informados."
    return None


# ---------------------------------------------------------------- first access
#
# Identifiers (company code, CNPJ, e-mail) are public or guessable: they never create or
# hand over an account. A company's first access starts with a single-use link e-mailed
# to the contact registered in its contract; a user created by a master activates itself
# only through the invitation link e-mailed by that registration.

PURPOSE_RESET = "password_reset"
PURPOSE_ACTIVATION = "company_activation"
PURPOSE_INVITATION = "user_invitation"
ACTIVATION_VALIDITY = timedelta(hours=24)
INVITATION_VALIDITY = timedelta(days=7)

ACTIVATION_SENT_MESSAGE = (
    "Pedido recebido. Se o e-mail informado for o contato cadastrado no contrato da "
    "empresa, enviamos para ele um link de ativação, válido por 24 horas e uma única vez: "
    "abra o link para criar a senha e receber o seu código de usuário."
)
ACTIVATION_NOT_RECEIVED_MESSAGE = (
    "Não recebeu em alguns minutos? Confira a caixa de spam. O link só é enviado ao "
    "e-mail de contato registrado no contrato: se o e-mail que você informou não for esse, "
    "nada é enviado. Nesse caso, peça ao seu gestor de contas na Sorriso Odontologia que "
    "confira ou atualize o contato da empresa e faça o pedido de novo."
)
INVALID_ACTIVATION_MESSAGE = (
    "Link de ativação inválido, expirado ou já usado. Peça um novo em 'Meu primeiro "
    "acesso' (perfil Empresa): ele vale por 24 horas e só o último pedido funciona."
)
INVALID_INVITATION_MESSAGE = (
    "Convite inválido, expirado ou já usado. Peça ao usuário master da sua empresa que "
    "reenvie o convite (Empresa > Usuários): ele vale por 7 dias e só o último funciona."
)


@dataclass(frozen=True)
class Invitation:
    expires_at: datetime
    queued: Queued


@dataclass(frozen=True)
class AccessLink:
    """What an activation or invitation link opens: shown on the page before the password."""

    purpose: str
    company_code: str
    company_name: str
    name: str
    user_code: str | None
    expires_at: datetime


def _link_token_issue(
    session: Session,
    *,
    purpose: str,
    now: datetime,
    validity: timedelta,
    email: str,
    user_id: int | None = None,
    company_id: int | None = None,
) -> str:
    """A new link token (only its hash is stored); earlier unused ones of the same
    purpose and owner stop working."""
    owner = (
        PasswordResetToken.user_id == user_id
        if user_id is not None
        else PasswordResetToken.company_id == company_id
    )
    session.execute(
        update(PasswordResetToken)
        .where(
            owner,
            PasswordResetToken.purpose == purpose,
            PasswordResetToken.used_at.is_(None),
        )
        .values(used_at=now)
    )
    token = secrets.token_urlsafe(32)
    session.add(
        PasswordResetToken(
            purpose=purpose,
            user_id=user_id,
            company_id=company_id,
            email=email[:254],
            token_hash=_token_hash(token),
            created_at=now,
            expires_at=now + validity,
        )
    )
    return token


def _link_token(
    session: Session, token: str, purpose: str, now: datetime, lock: bool = False
) -> PasswordResetToken | None:
    """The unused, unexpired token of this purpose, or None."""
    value = token.strip()
    if not value or len(value) > 200:
        return None
    query = select(PasswordResetToken).where(PasswordResetToken.token_hash == _token_hash(value))
    if lock:
        query = query.with_for_update()
    row = session.scalars(query).one_or_none()
    if row is None or row.purpose != purpose or row.used_at is not None or row.expires_at <= now:
        return None
    return row


def _same_address(a: str | None, b: str | None) -> bool:
    return bool(a and b) and a.strip().casefold() == b.strip().casefold()  # type: ignore[union-attr]


def _has_master(session: Session, company_id: int) -> bool:
    return bool(
        session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.company_id == company_id, User.role == Role.MASTER.value)
        )
    )


def _activation_target(
    session: Session, token: str, now: datetime, lock: bool = False
) -> tuple[PasswordResetToken, Company]:
    row = _link_token(session, token, PURPOSE_ACTIVATION, now, lock=lock)
    company = session.get(Company, row.company_id) if row and row.company_id else None
    if (
        row is None
        or company is None
        or company.status != "active"
        or not _same_address(company.contact_email, row.email)
        or _has_master(session, company.id)
    ):
        raise DomainError(INVALID_ACTIVATION_MESSAGE)
    return row, company


def _invitation_target(
    session: Session, token: str, now: datetime, lock: bool = False
) -> tuple[PasswordResetToken, User, Company]:
    row = _link_token(session, token, PURPOSE_INVITATION, now, lock=lock)
    user = session.get(User, row.user_id) if row and row.user_id else None
    company = session.get(Company, user.company_id) if user and user.company_id else None
    if (
        row is None
        or user is None
        or company is None
        or user.status != "pending"
        or not _same_address(user.email, row.email)
    ):
        raise DomainError(INVALID_INVITATION_MESSAGE)
    return row, user, company


def access_link_check(*, uow: UnitOfWork, token: str, purpose: str, now: datetime) -> AccessLink:
    """What an activation (`company_activation`) or invitation (`user_invitation`) link
    opens; DomainError when it is unknown, of another purpose, used, expired or moot."""
    with uow:
        session = uow.session
        if purpose == PURPOSE_ACTIVATION:
            row, company = _activation_target(session, token, now)
            name = (company.contact_name or "").strip() or company.name
            return AccessLink(purpose, company.code, company.name, name, None, row.expires_at)
        if purpose == PURPOSE_INVITATION:
            row, user, company = _invitation_target(session, token, now)
            return AccessLink(
                purpose, company.code, company.name, user.name, user.user_code, row.expires_at
            )
    raise DomainError("Link desconhecido.")


@dataclass(frozen=True)
class DemoFirstAccess:
    company_code: str
    document: str  # formatted
    contact_email: str


def first_access_demo_company(*, uow: UnitOfWork) -> DemoFirstAccess | None:
    """Demos only (the login page calls it only with the demo outbox on, which production
    refuses): the first active company without users, with what its first access asks."""
    with uow:
        session = uow.session
        has_users = select(User.id).where(User.company_id == Company.id).exists()
        company = session.scalars(
            select(Company)
            .where(Company.status == "active", Company.contact_email.is_not(None), ~has_users)
            .order_by(func.length(Company.code), Company.code)
            .limit(1)
        ).one_or_none()
        if company is None:
            return None
        return DemoFirstAccess(
            company.code,
            format_company_document(company.document, company.document_type),
            str(company.contact_email),
        )


def company_activation_request(
    *,
    uow: UnitOfWork,
    company_code: str,
    email: str,
    document: str,
    document_type: str,
    now: datetime,
    base_url: str,
    client: str = "",
) -> None:
    """First access of a company (profile Empresa): e-mail an activation link.

    When code + CNPJ/CAEPF match an active company without a master and `email` is the
    contact registered in its contract, a single-use link valid for 24 hours goes to that
    address (an earlier one stops working). Nothing is created here. When the e-mail is
    not the registered contact, nothing is sent and the answer is the same (the page says
    where the link goes and whom to ask): the form never confirms a contact address."""
    rate_limit_take(uow=uow, form="first_access", identifier=company_code, client=client, now=now)
    errors: dict[str, str] = {}
    code = company_code.strip()
    if not code:
        errors["company_code"] = "Informe o código da empresa."
    if problem := _email_problem(email):
        errors["email"] = problem
    doc_type = document_type.strip().upper()
    if problem := _company_document_problem(document, doc_type):
        errors["document"] = problem
    if errors:
        raise FieldErrors(errors)
    doc = normalize_document(document)
    with uow:
        session = uow.session
        company = session.scalars(
            select(Company).where(Company.code == code).with_for_update()
        ).one_or_none()
        if (
            company is None
            or company.document != doc
            or company.document_type != doc_type
            or company.status != "active"
        ):
            raise DomainError(PAIR_MISMATCH_MESSAGE)
        if _has_master(session, company.id):
            raise DomainError(FIRST_ACCESS_DONE_MESSAGE)
        if not _same_address(company.contact_email, email):
            audit_record(
                session,
                user_id=None,
                company_id=company.id,
                action="first_access_request_refused",
                entity="company",
                entity_id=company.id,
                before=None,
                after={"motivo": "e-mail diferente do contato cadastrado; nada enviado"},
                now=now,
            )
            uow.commit()
            return None
        contact = str(company.contact_email).strip()
        token = _link_token_issue(
            session,
            purpose=PURPOSE_ACTIVATION,
            now=now,
            validity=ACTIVATION_VALIDITY,
            email=contact,
            company_id=company.id,
        )
        hours = int(ACTIVATION_VALIDITY.total_seconds() // 3600)
        name = (company.contact_name or "").strip() or company.name
        queued = mail_queue(
            session,
            to=contact,
            subject="Portal Empresa: ative o acesso da sua empresa",
            body=(
                f"Olá, {name}.\n\n"
                f"Recebemos o pedido de primeiro acesso da empresa {company.code} · "
                f"{company.name} ao Portal Empresa.\n"
                f"Para ativar, abra o link abaixo em até {hours} horas, crie a sua senha e "
                "anote o código de usuário que aparecer. O link só pode ser usado uma vez.\n\n"
                f"{base_url.rstrip('/')}/?ativar={token}\n\n"
                "O login é sempre feito com o código de usuário, não com o CNPJ.\n"
                "Se você não fez este pedido, ignore este e-mail: nada foi criado.\n"
            ),
            now=now,
            secret=token,
        )
        audit_record(
            session,
            user_id=None,
            company_id=company.id,
            action="first_access_request",
            entity="company",
            entity_id=company.id,
            before=None,
            after={
                "link": "enviado ao contato cadastrado",
                "expires_at": now + ACTIVATION_VALIDITY,
            },
            now=now,
        )
        uow.commit()
    # After the commit, no transaction open (services.mail.outbox). A failed delivery stays in
    # the outbox to be retried; the answer stays the same, so it tells nothing either.
    mail_deliver(uow=uow, ids=[queued], now=now)
    return None


def company_activation_confirm(
    *,
    uow: UnitOfWork,
    token: str,
    password: str,
    confirmation: str,
    now: datetime,
    base_url: str | None = None,
    client: str = "",
) -> FirstAccessResult:
    """Create the company's master user from its activation link (single use)."""
    rate_limit_take(uow=uow, form="access_link", identifier="", client=client, now=now)
    errors: dict[str, str] = {}
    _password_field_errors(errors, password, confirmation)
    if errors:
        raise FieldErrors(errors)
    with uow:
        session = uow.session
        pending = _link_token(session, token, PURPOSE_ACTIVATION, now)
        if pending is None or pending.company_id is None:
            raise DomainError(INVALID_ACTIVATION_MESSAGE)
        # The company's row first (as every first access does), then the token's.
        session.scalars(
            select(Company).where(Company.id == pending.company_id).with_for_update()
        ).one()
        row, company = _activation_target(session, token, now, lock=True)
        user_code = user_code_next(session)
        if problems := password_problems(password, user_code=user_code):
            raise FieldErrors({"password": " ".join(problems)})
        name = (company.contact_name or "").strip() or company.name
        address = str(row.email)
        user = User(
            user_code=user_code,
            name=name,
            email=address,
            role=Role.MASTER.value,
            permissions=sorted(p.value for p in ALL_PERMISSIONS),
            company_id=company.id,
            status="active",
            password_hash=hash_password(password),
            failed_attempts=0,
            created_at=now,
        )
        session.add(user)
        session.flush()
        row.used_at = now
        row.user_id = user.id
        audit_record(
            session,
            user_id=user.id,
            company_id=company.id,
            action="first_access_company",
            entity="user",
            entity_id=user.id,
            before=None,
            after={
                "user_code": user_code,
                "role": user.role,
                "email": user.email,
                "status": user.status,
                "via": "link de ativação enviado ao contato cadastrado",
            },
            now=now,
        )
        queued = mail_queue(
            session,
            to=address,
            subject="Portal Empresa: seu código de usuário",
            body=(
                f"Olá, {name}.\n\n"
                f"O primeiro acesso da empresa {company.name} ao Portal Empresa foi "
                "concluído.\n"
                f"Seu código de usuário é {user_code}.\n\n"
                "Guarde este código: o login é sempre feito com o código de usuário e a "
                "senha que você cadastrou.\n\n"
                f"{(base_url or get_settings().link_base()).rstrip('/')}\n"
            ),
            now=now,
        )
        uow.commit()
    # The code is on the screen too: a failed delivery is retried from the outbox.
    mail_deliver(uow=uow, ids=[queued], now=now)
    return FirstAccessResult(user_code=user_code, name=name)


def user_invitation_send(
    session: Session,
    *,
    user: User,
    company: Company,
    inviter: str,
    now: datetime,
    base_url: str,
) -> Invitation:
    """Record a pending user's first access invitation (single use, 7 days) in the
    caller's transaction; an earlier invitation stops working. The caller delivers the
    message after its commit (`mail_deliver` with `Invitation.queued`)."""
    token = _link_token_issue(
        session,
        purpose=PURPOSE_INVITATION,
        now=now,
        validity=INVITATION_VALIDITY,
        email=user.email,
        user_id=user.id,
        company_id=user.company_id,
    )
    days = INVITATION_VALIDITY.days
    queued = mail_queue(
        session,
        to=user.email,
        subject="Portal Empresa: convite para o seu primeiro acesso",
        body=(
            f"Olá, {user.name}.\n\n"
            f"{inviter} criou o seu usuário no Portal Empresa da empresa "
            f"{company.code} · {company.name}.\n\n"
            f"Seu código de usuário: {user.user_code}\n\n"
            f"Para ativar, abra o link abaixo em até {days} dias e crie a sua senha. "
            "Ele só pode ser usado uma vez.\n\n"
            f"{base_url.rstrip('/')}/?convite={token}\n\n"
            "O login é sempre feito com o código de usuário, não com o CNPJ.\n"
            "Se você não esperava este convite, ignore este e-mail.\n"
        ),
        now=now,
        secret=token,
    )
    return Invitation(expires_at=now + INVITATION_VALIDITY, queued=queued)


def user_invitation_accept(
    *,
    uow: UnitOfWork,
    token: str,
    password: str,
    confirmation: str,
    now: datetime,
    client: str = "",
) -> FirstAccessResult:
    """Activate a user created by a master from its invitation link: it sets its password."""
    rate_limit_take(uow=uow, form="access_link", identifier="", client=client, now=now)
    with uow:
        session = uow.session
        pending = _link_token(session, token, PURPOSE_INVITATION, now)
        if pending is None or pending.user_id is None:
            raise DomainError(INVALID_INVITATION_MESSAGE)
        session.get(User, pending.user_id, with_for_update=True)
        row, user, _company = _invitation_target(session, token, now, lock=True)
        errors: dict[str, str] = {}
        _password_field_errors(errors, password, confirmation, user_code=user.user_code)
        if errors:
            raise FieldErrors(errors)
        user.password_hash = hash_password(password)
        user.status = "active"
        user.failed_attempts = 0
        user.locked_until = None
        row.used_at = now
        audit_record(
            session,
            user_id=user.id,
            company_id=user.company_id,
            action="first_access_user",
            entity="user",
            entity_id=user.id,
            before={"status": "pending"},
            after={"status": "active", "via": "convite enviado por e-mail"},
            now=now,
        )
        uow.commit()
        return FirstAccessResult(user_code=user.user_code, name=user.name)


# ---------------------------------------------------------------- forgot password


def _document_matches_user(session: Session, user: User, doc: str) -> bool:
    if user.role == Role.ACCOUNT_MANAGER.value:
        return bool(session.scalar(select(func.count()).where(Operator.cnpj == doc)))
    if user.company_id is None:
        return False
    company_doc = session.scalar(select(Company.document).where(Company.id == user.company_id))
    return company_doc == doc


def password_reset_request(
    *,
    uow: UnitOfWork,
    user_code: str,
    document: str,
    now: datetime,
    base_url: str,
    client: str = "",
) -> None:
    """E-mail a single-use reset link (30 minutes) when code + CNPJ match; silent otherwise."""
    rate_limit_take(uow=uow, form="password_reset", identifier=user_code, client=client, now=now)
    doc = normalize_document(document)
    code = user_code.strip()
    if not code or not doc:
        return None
    with uow:
        session = uow.session
        user = session.scalars(
            select(User).where(User.user_code == code).with_for_update()
        ).one_or_none()
        if (
            user is None
            or user.status != "active"
            or not _document_matches_user(session, user, doc)
        ):
            return None
        token = _link_token_issue(
            session,
            purpose=PURPOSE_RESET,
            now=now,
            validity=RESET_TOKEN_VALIDITY,
            email=user.email,
            user_id=user.id,
            company_id=user.company_id,
        )
        link = f"{base_url.rstrip('/')}/?reset={token}"
        minutes = int(RESET_TOKEN_VALIDITY.total_seconds() // 60)
        queued = mail_queue(
            session,
            to=user.email,
            subject="Portal Empresa: redefinição de senha",
            body=(
                f"Olá, {user.name}.\n\n"
                f"Recebemos um pedido para redefinir a senha do usuário {user.user_code}.\n"
                f"Para criar uma nova senha, abra o link abaixo em até {minutes} minutos. "
                "Ele só pode ser usado uma vez.\n\n"
                f"{link}\n\n"
                "Se você não fez este pedido, ignore este e-mail: sua senha continua a mesma.\n"
            ),
            now=now,
            secret=token,
        )
        audit_record(
            session,
            user_id=user.id,
            company_id=user.company_id,
            action="password_reset_request",
            entity="user",
            entity_id=user.id,
            before=None,
            after={"expires_at": now + RESET_TOKEN_VALIDITY},
            now=now,
        )
        uow.commit()
    # Delivered with no transaction open; a failure stays in the outbox for the retry
    # (the page's neutral answer does not say whether anything was sent).
    mail_deliver(uow=uow, ids=[queued], now=now)
    return None


def password_reset_confirm(
    *, uow: UnitOfWork, token: str, password: str, confirmation: str, now: datetime
) -> str:
    """Set a new password from a reset link; returns the user code."""
    with uow:
        session = uow.session
        row = _link_token(session, token, PURPOSE_RESET, now, lock=True)
        user = session.get(User, row.user_id) if row is not None and row.user_id else None
        if row is None or user is None or user.status != "active":
            raise DomainError(INVALID_RESET_MESSAGE)
        errors: dict[str, str] = {}
        _password_field_errors(errors, password, confirmation, user_code=user.user_code)
        if "password" not in errors and _reuses_recent_password(user, password):
            errors["password"] = PASSWORD_REUSED_MESSAGE
        if errors:
            raise FieldErrors(errors)
        _set_password(session, user, password, now)
        user.failed_attempts = 0
        user.locked_until = None
        row.used_at = now
        audit_record(
            session,
            user_id=user.id,
            company_id=user.company_id,
            action="password_reset",
            entity="user",
            entity_id=user.id,
            before=None,
            after={"password": "redefinida"},
            now=now,
        )
        uow.commit()
        return user.user_code


# ---------------------------------------------------------------- forgot user code


def user_code_reminder(
    *,
    uow: UnitOfWork,
    company_code: str,
    document: str,
    email: str,
    now: datetime,
    client: str = "",
) -> None:
    """E-mail the user code(s) registered with that e-mail in that company; silent otherwise."""
    rate_limit_take(
        uow=uow, form="user_code_reminder", identifier=company_code, client=client, now=now
    )
    code = company_code.strip()
    doc = normalize_document(document)
    address = email.strip()
    if not code or not doc or not address:
        return None
    with uow:
        session = uow.session
        company = session.scalars(
            select(Company).where(Company.code == code, Company.document == doc)
        ).one_or_none()
        if company is None:
            return None
        users = session.scalars(
            select(User)
            .where(
                User.company_id == company.id,
                User.status.in_(("active", "pending")),
                func.lower(User.email) == address.lower(),
            )
            .order_by(User.user_code)
        ).all()
        if not users:
            return None
        lines = "\n".join(f"- {u.user_code} ({u.name})" for u in users)
        queued = mail_queue(
            session,
            to=users[0].email,
            subject="Portal Empresa: seu código de usuário",
            body=(
                f"Olá.\n\nEstes são os códigos de usuário cadastrados com este e-mail na "
                f"empresa {company.name}:\n\n{lines}\n\n"
                "O login no Portal Empresa é sempre feito com o código de usuário e a senha.\n"
                "Se você não fez este pedido, ignore este e-mail.\n"
            ),
            now=now,
        )
        uow.commit()
    mail_deliver(uow=uow, ids=[queued], now=now)  # no transaction open (see services.mail.outbox)
    return None


# ---------------------------------------------------------------- change password


PASSWORD_HISTORY_SIZE = 3
PASSWORD_REUSED_MESSAGE = (
    f"A nova senha não pode ser igual a nenhuma das suas últimas {PASSWORD_HISTORY_SIZE} senhas."
)


def _reuses_recent_password(user: User, password: str) -> bool:
    recent = [user.password_hash, *(user.password_history or [])][:PASSWORD_HISTORY_SIZE]
    return any(verify_password(password, h) for h in recent if h)


def _set_password(
    session: Session, user: User, password: str, now: datetime, keep: str = ""
) -> None:
    """New hash; the old one goes into the history; every session of the user ends
    (but `keep`, the session making the change)."""
    if user.password_hash:
        user.password_history = [user.password_hash, *(user.password_history or [])][
            : PASSWORD_HISTORY_SIZE - 1
        ]
    user.password_hash = hash_password(password)
    sessions_end_all(session, user, now, "password", keep=keep)


class AccountLocked(DomainError):
    """The user is locked (too many wrong passwords): its sessions have ended."""


PASSWORD_CHANGE_LOCKED_MESSAGE = (
    f"A senha atual foi informada errada {MAX_FAILED_ATTEMPTS} vezes seguidas: por "
    f"segurança, o usuário foi bloqueado por {int(LOCK_DURATION.total_seconds() // 60)} "
    "minutos e as suas sessões foram encerradas. Depois disso, entre de novo; se não "
    "lembrar a senha, use 'Esqueci minha senha'."
)
USER_LOCKED_MESSAGE = (
    "O usuário está bloqueado por tentativas com a senha errada: a senha só pode ser "
    f"alterada depois que o bloqueio de {int(LOCK_DURATION.total_seconds() // 60)} "
    "minutos passar."
)


def _wrong_current_message(failed: int) -> str:
    left = MAX_FAILED_ATTEMPTS - failed
    return (
        f"A senha atual não confere. Mais {left} tentativa(s) errada(s) e o usuário fica "
        f"bloqueado por {int(LOCK_DURATION.total_seconds() // 60)} minutos."
    )


def password_change(
    *, uow: UnitOfWork, actor: Actor, current: str, new: str, confirmation: str, now: datetime
) -> Actor:
    """Change the logged-in user's own password (current one required).

    Every other session of the user ends; the returned actor carries the new session
    epoch, for the session that made the change to go on.

    A wrong current password counts toward the same lock as the login: at the 5th
    failure in a row the user is locked for 15 minutes and every session of the user,
    this one included, ends (`AccountLocked`); while locked the change is refused."""
    with uow:
        session = uow.session
        user = session.get(User, actor.user_id, with_for_update=True)
        if user is None or user.status != "active":
            raise DomainError("Usuário não encontrado ou inativo.")
        if _is_locked(user, now):
            raise DomainError(USER_LOCKED_MESSAGE)
        if user.locked_until is not None:
            # The lock expired: a fresh series of attempts starts (as at the login).
            user.locked_until = None
            user.failed_attempts = 0
        errors: dict[str, str] = {}
        current_ok = verify_password(current, user.password_hash)
        problems = password_problems(new, user_code=user.user_code)
        if problems:
            errors["new"] = " ".join(problems)
        elif new == current or _reuses_recent_password(user, new):
            errors["new"] = PASSWORD_REUSED_MESSAGE
        if not confirmation:
            errors["confirmation"] = "Repita a nova senha no campo de confirmação."
        elif confirmation != new:
            errors["confirmation"] = "A confirmação não é igual à nova senha."
        if not current_ok:
            if _count_failed_attempt(session, user, now, where="alterar senha"):
                sessions_end_all(session, user, now, "locked")
                uow.commit()
                raise AccountLocked(PASSWORD_CHANGE_LOCKED_MESSAGE)
            uow.commit()
            errors = {"current": _wrong_current_message(user.failed_attempts), **errors}
        if errors:
            raise FieldErrors(errors)
        _set_password(session, user, new, now, keep=actor.session_id)
        user.failed_attempts = 0
        audit_record(
            session,
            user_id=user.id,
            company_id=user.company_id,
            action="password_change",
            entity="user",
            entity_id=user.id,
            before=None,
            after={"password": "alterada", "other_sessions": "encerradas"},
            now=now,
        )
        refreshed = replace(_actor_from_user(session, user), session_id=actor.session_id)
        uow.commit()
        return refreshed
