"""What a page shows while the app starts or reruns: no file names, no empty grey box.

Two causes, found in Streamlit 1.67's source:

1. File names in the sidebar. Because a `pages/` folder sits next to `streamlit_app.py`,
   the first run of a fresh server does not run the main script directly: Streamlit
   (`runtime/scriptrunner/script_runner.py`, `_mpa_v1`, chosen by
   `PagesManager.uses_pages_directory`) first sends a navigation built from the folder's
   file names ("first access", "movements individual", ...) and shows it in the sidebar
   until our `st.navigation` replaces it, seconds later. `.streamlit/config.toml` sets
   `client.showSidebarNavigation = false`, which makes that automatic navigation hidden.
   The same option would also hide our own `st.navigation` menu
   (`commands/navigation.py`), so once our script runs it turns the option back on with
   `st.set_option` (public, documented for this option): from then on only the portal's
   navigation is shown. The `pages/` folder keeps its name (the architecture names it).

2. The login cookie's script. `components.auth.sync_cookie` writes and deletes the
   login cookie with a small script (`st.html`) in the container keyed
   `COOKIE_CONTAINER`. A style rule hides that container (Streamlit gives every keyed
   container the class `st-key-<key>`, there from the first paint), so it takes no space
   and leaves no gap; a hidden script still runs. The rule is sent with `st.html`
   containing only a style tag, which Streamlit puts in its event container: it takes no
   space and draws no box. (Before issue 13 the cookie was read and written by a custom
   component, whose loading skeleton this rule also had to hide.)
"""

from __future__ import annotations

import streamlit as st

# The key of the container of components.auth's cookie script.
COOKIE_CONTAINER = "portal_cookie"
_STYLE = f"<style>.st-key-{COOKIE_CONTAINER} {{ display: none; }}</style>"


def prepare_page_load() -> None:
    """Call once per run, right after `st.set_page_config` (see the module's docstring)."""
    st.set_option("client.showSidebarNavigation", True)
    st.html(_STYLE)
