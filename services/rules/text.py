"""Free text typed by a user (names, addresses, subjects, descriptions, notes): it fits its
column and carries no control or format characters.

Control characters (NUL, escape sequences...) and Unicode format characters (the bidi
overrides that make "gpj.exe" read "exe.jpg", zero-width characters) have no place in a
register: they corrupt files and exports and make text read differently from what it
is. Every such field goes through `text_problem`, one rule for the whole portal.

Source: Lei 13.709/2018 (LGPD), art. 6, V (quality of the data: accurate and clear) and
art. 46 (security measures); the maximum lengths are the database columns' own.

Explained in docs/domain/lgpd.md, "Quality and security of what is typed".
"""

from __future__ import annotations

from services.rules.formats import format_int

# Largest free texts (characters): the form widgets use the same numbers as max_chars.
PROTOCOL_SUBJECT_MAX = 200  # protocol.subject is String(200)
PROTOCOL_DESCRIPTION_MAX = 4000
PROTOCOL_NOTE_MAX = 4000
PERSON_NAME_MAX = 200  # beneficiary, mother, user and contact names: String(200)
_LINE_BREAKS = str.maketrans("", "", "\n\r\t")


def text_problem(value: str, label: str, limit: int, *, multiline: bool = False) -> str | None:
    """Why `value` cannot be stored (a Portuguese message naming the field), or None.

    Too long (more than `limit` characters), or holding a control or format character
    (anything str.isprintable refuses: C0/C1 controls, bidi and zero-width format
    characters, line and paragraph separators). A multi-line text may have line breaks
    and tabs.
    """
    if len(value) > limit:
        given = format_int(len(value))
        return f"{label}: no máximo {format_int(limit)} caracteres (informados {given})."
    checked = value.translate(_LINE_BREAKS) if multiline else value
    if not checked.isprintable():
        return f"{label}: use só letras, números e pontuação (sem caracteres de controle)."
    return None
