"""Password composition rule of the portal's users.

Source: Lei 13.709/2018 (LGPD), art. 46, requires technical security measures
to protect personal data; the composition itself is the operator's access
policy: at least 8 characters, with upper- and lower-case letters, a digit and a
symbol, and not containing the user's code. At most 72 bytes in UTF-8, the part of a
password that bcrypt reads (never silently cut). Explained in docs/domain/lgpd.md,
"Quality and security of what is typed".
"""

from __future__ import annotations

MIN_LENGTH = 8
# bcrypt reads only the first 72 bytes of a password (UTF-8): a longer one would be
# silently cut, so it is refused. Letters without accents, digits and the usual symbols
# take 1 byte; accented letters and "ç" take 2; other characters up to 4.
MAX_BYTES = 72
TOO_LONG_MESSAGE = (
    f"A senha pode ter no máximo {MAX_BYTES} caracteres (letras acentuadas e ç contam "
    "como 2): use uma senha mais curta."
)

# The policy in one sentence, as the forms that set a password show it.
POLICY_SUMMARY = (
    f"De {MIN_LENGTH} a {MAX_BYTES} caracteres (letras acentuadas e ç contam como 2), com "
    "letra maiúscula, minúscula, número e símbolo, sem o código de usuário."
)


def password_too_long(password: str) -> bool:
    """True when bcrypt would not read the whole password (more than 72 bytes in UTF-8)."""
    return len(password.encode("utf-8")) > MAX_BYTES


def password_problems(password: str, *, user_code: str = "") -> list[str]:
    """Portuguese descriptions of what ``password`` lacks; an empty list means it is accepted."""
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(f"A senha deve ter pelo menos {MIN_LENGTH} caracteres.")
    if password_too_long(password):
        problems.append(TOO_LONG_MESSAGE)
    if not any(ch.isupper() for ch in password):
        problems.append("A senha deve ter pelo menos uma letra maiúscula.")
    if not any(ch.islower() for ch in password):
        problems.append("A senha deve ter pelo menos uma letra minúscula.")
    if not any(ch.isdigit() for ch in password):
        problems.append("A senha deve ter pelo menos um número.")
    if not any(not ch.isalnum() and not ch.isspace() for ch in password):
        problems.append("A senha deve ter pelo menos um símbolo (por exemplo @, #, !).")
    if password != password.strip():
        # The login form trims what is typed, so such a password could never be used.
        problems.append("A senha não pode começar nem terminar com espaço.")
    code = user_code.strip()
    if code and code.casefold() in password.casefold():
        problems.append("A senha não pode conter o código do usuário.")
    return problems
