"""Password composition rule of the portal's users.

Source: Lei 13.709/2018 (LGPD), art. 46, requires technical security measures
to protect personal data; the composition itself is the operator's access
policy as stated in the portal manual: at least 8 characters, with upper- and
lower-case letters, a digit and a symbol, and not containing the user's code.
"""

from __future__ import annotations

MIN_LENGTH = 8


def password_problems(password: str, *, user_code: str = "") -> list[str]:
    """Portuguese descriptions of what ``password`` lacks; an empty list means it is accepted."""
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(f"A senha deve ter pelo menos {MIN_LENGTH} caracteres.")
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
