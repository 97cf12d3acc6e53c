"""The pages declare their language: Brazilian Portuguese.

Streamlit serves one index.html with `<html lang="en">` and has no option to change it,
so a script sets `lang="pt-BR"` on the document (screen readers then read the pages in
Portuguese, and axe's `html-has-lang`/`html-lang-valid` checks see the right language).
The element holding the script is hidden by its own style rule: it takes no space and
shows no box, not even the gap between elements.
"""

from __future__ import annotations

import streamlit as st

LANGUAGE = "pt-BR"

_HTML = f"""
<style>.stElementContainer:has(script[data-portal-lang]) {{ display: none; }}</style>
<script data-portal-lang>document.documentElement.lang = "{LANGUAGE}";</script>
"""


def declare_language() -> None:
    """Set the document's language; call once per run, before anything is drawn."""
    st.html(_HTML, unsafe_allow_javascript=True)
