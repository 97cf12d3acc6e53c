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

2. An empty grey box. The login cookie is read and written by a custom component
   (extra_streamlit_components' CookieManager, used by streamlit-authenticator and by
   `components.auth.ensure_cookie`). While the component's code loads, and then until
   its frontend answers, Streamlit draws a grey loading skeleton in its place
   (`ComponentInstance` and the lazy-loading fallback, `data-testid="stSkeleton"`),
   40 px high; the component never asks for a height, and neither library lets us pass
   one. So a style rule hides the element containers of that component: by the
   `st-key-<key>` class Streamlit gives every keyed element (the keys the libraries and
   `components.auth` draw it with: "init", "set", "delete", "portal_cookie"), which is
   there from the first paint, and by the iframe's title (the component's name) for any
   other key. A hidden iframe still loads and runs, so the cookie is still read and
   written. The rule is sent with `st.html` containing only a style tag, which Streamlit
   puts in its event container: it takes no space and draws no box.
"""

from __future__ import annotations

import streamlit as st

COOKIE_COMPONENT = "extra_streamlit_components.CookieManager.cookie_manager"
# CookieManager() reads with key "init"; streamlit-authenticator writes and deletes with
# the library's default keys "set" and "delete"; components.auth writes with its own.
COOKIE_COMPONENT_KEYS = ("init", "set", "delete", "portal_cookie")
_SELECTORS = [f".stElementContainer.st-key-{key}" for key in COOKIE_COMPONENT_KEYS] + [
    f'.stElementContainer:has(iframe[title="{COOKIE_COMPONENT}"])'
]
_STYLE = f"<style>{', '.join(_SELECTORS)} {{ display: none; }}</style>"


def prepare_page_load() -> None:
    """Call once per run, right after `st.set_page_config` (see the module's docstring)."""
    st.set_option("client.showSidebarNavigation", True)
    st.html(_STYLE)
