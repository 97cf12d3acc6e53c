"""Accessibility: an axe-core audit (WCAG 2.0 and 2.1, levels A and AA) of every page.

Each page, public and logged in (for each kind of user), is opened in Chromium, left to
go idle, and audited with axe-core (shipped inside the `axe-playwright-python` wheel, so
no download at test time). A violation the app owns fails the test. Streamlit's own
markup has a few violations the app cannot change; they are allowed only where listed in
FRAMEWORK_OWNED (rule and the framework element that holds the node), and the README's
"Acessibilidade" section lists them.

PORTAL_A11Y_REPORT=path writes every violation found (app's and framework's) as JSON.
"""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from components.navigation import pages_for
from services.actors import ALL_PERMISSIONS, Actor, Permission, Role
from tests.e2e.conftest import wait_idle
from tests.e2e.test_access_and_home import login

pytestmark = pytest.mark.e2e

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# Violations inside Streamlit's own markup, which the app neither writes nor can style
# without overriding the framework's internals. Each entry: an axe rule id and the CSS
# selector of the framework element whose descendants (or itself) hold the failing node.
# Anything else, and these rules anywhere else, count as the app's.
#
# Streamlit 1.67's sidebar menu with sections (st.navigation with a dict of groups) is a
# `<ul data-testid="stSidebarNavItems">` whose children are `<div>`s (one per section:
# its header and its `<li>` links), i.e. `ul > div > li`: the `<ul>` has children that
# are not list items (rule `list`, once per page) and each `<li>` lacks a `<ul>`/`<ol>`
# parent (rule `listitem`, once per menu entry). Only those two structural rules, and only
# inside that list, are the framework's: a contrast or name problem there is the app's.
SIDEBAR_MENU_LIST = '[data-testid="stSidebarNav"] [data-testid="stSidebarNavItems"]'
#
# Streamlit draws the label of a disabled widget (e.g. "Cidade" until a state is chosen)
# in its faded colour, 40 % of the text colour: no theme colour can bring it to 4.5:1 (even
# black gives 2.8:1). WCAG 1.4.3 sets no contrast requirement for "text that is part of an
# inactive user interface component", and axe cannot see that the label belongs to the
# disabled input (Streamlit's label is no `<label for>`). So `color-contrast` is allowed
# only in the label of a widget whose control is disabled; enabled widgets' labels count.
DISABLED_WIDGET_LABEL = (
    '[data-testid="stElementContainer"]:has(input:disabled, textarea:disabled, '
    'button:disabled, [aria-disabled="true"]) [data-testid="stWidgetLabel"]'
)
FRAMEWORK_OWNED: dict[str, tuple[str, ...]] = {
    "list": (SIDEBAR_MENU_LIST,),
    "listitem": (SIDEBAR_MENU_LIST,),
    "color-contrast": (DISABLED_WIDGET_LABEL,),
}

ROLES = {
    "900001": Actor(1, "900001", "", Role.ACCOUNT_MANAGER, frozenset(ALL_PERMISSIONS), frozenset()),
    "100001": Actor(2, "100001", "", Role.MASTER, frozenset(ALL_PERMISSIONS), frozenset()),
    "100002": Actor(
        3,
        "100002",
        "",
        Role.USER,
        frozenset({Permission.MOVEMENTS, Permission.REPORTS}),
        frozenset(),
    ),
}

_AXE_SOURCE: str | None = None


def _axe_source() -> str:
    global _AXE_SOURCE
    if _AXE_SOURCE is None:
        _AXE_SOURCE = (
            resources.files("axe_playwright_python").joinpath("axe.min.js").read_text("utf-8")
        )
    return _AXE_SOURCE


# Runs axe on the whole document and marks each failing node as the framework's when
# the rule is listed and the node sits inside one of the listed framework elements.
_AUDIT_JS = """
async ([tags, owned]) => {
  const results = await axe.run(document, {
    runOnly: {type: "tag", values: tags},
    resultTypes: ["violations"],
  });
  const out = [];
  for (const v of results.violations) {
    for (const node of v.nodes) {
      let framework = false;
      const selectors = owned[v.id] || [];
      // A target of more than one selector is inside an iframe or a shadow root: the
      // app's (a component it embeds), never allowed.
      if (node.target.length === 1 && selectors.length) {
        const el = document.querySelector(node.target[0]);
        framework = !!el && selectors.some((s) => el.closest(s) !== null);
      }
      out.push({
        rule: v.id, impact: v.impact, help: v.help, framework,
        target: node.target.join(" >>> "), html: node.html.slice(0, 300),
        summary: (node.failureSummary || "").slice(0, 300),
      });
    }
  }
  return out;
}
"""


def audit(page: Page) -> list[dict]:
    """axe-core's WCAG A/AA violations of the page as it is now, one entry per node."""
    wait_idle(page)
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=_axe_source())
    return page.evaluate(_AUDIT_JS, [WCAG_TAGS, {k: list(v) for k, v in FRAMEWORK_OWNED.items()}])


def _report(name: str, found: dict[str, list[dict]]) -> None:
    path = os.environ.get("PORTAL_A11Y_REPORT")
    if path:
        target = Path(path)
        data = json.loads(target.read_text("utf-8")) if target.exists() else {}
        data[name] = found
        target.write_text(json.dumps(data, ensure_ascii=False, indent=1), "utf-8")


def _app_owned(found: dict[str, list[dict]]) -> list[str]:
    return [
        f"{page}: {v['rule']} ({v['help']}) at {v['target']}: {v['html']} | {v['summary']}"
        for page, violations in found.items()
        for v in violations
        if not v["framework"]
    ]


def _declares_portuguese(page: Page) -> None:
    expect(page.locator("html")).to_have_attribute("lang", "pt-BR")
    # The element that sets it shows nothing: no box, no gap (components/language.py).
    holder = page.locator('[data-testid="stElementContainer"]:has(script[data-portal-lang])')
    expect(holder).to_have_count(1)
    expect(holder).to_be_hidden()


def _sidebar_titles(page: Page) -> list[str]:
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav.get_by_role("link").first).to_be_visible()
    # A link reads "<icon name>\n\n<title>": keep the title.
    return [t.strip().split("\n")[-1] for t in nav.get_by_role("link").all_inner_texts()]


@pytest.mark.timeout(900)
def test_public_pages_have_no_app_owned_accessibility_violation(page: Page, portal_url: str):
    found: dict[str, list[dict]] = {}
    _declares_portuguese(page)
    titles = _sidebar_titles(page)
    assert "Meu primeiro acesso" in titles
    for title in titles:
        page.get_by_test_id("stSidebarNav").get_by_role("link", name=title, exact=True).click()
        expect(page.get_by_role("heading", name=title).first).to_be_visible()
        _declares_portuguese(page)
        found[title] = audit(page)
    # "Redefinir senha" is offered only from the e-mailed link.
    page.goto(f"{portal_url}/?reset=token-invalido")
    expect(page.get_by_role("heading", name="Redefinir senha").first).to_be_visible()
    _declares_portuguese(page)
    found["Redefinir senha"] = audit(page)
    _report("anônimo", found)
    assert not _app_owned(found), "\n".join(_app_owned(found))


def test_the_audit_blames_the_app_for_what_is_outside_the_framework_allow_list(page: Page):
    """The allow-list is no blanket skip: the same rules in the app's own content, other
    rules inside the framework's list, and an enabled widget's label count as the app's."""
    wait_idle(page)
    page.evaluate(
        """() => {
        const main = document.querySelector('[data-testid="stMain"]');
        main.insertAdjacentHTML('beforeend',
          '<ul id="a11y-probe-list"><div><li>Item da sonda</li></div></ul>' +
          '<p id="a11y-probe-grey" style="color:#bbbbbb;background:#ffffff">Texto claro</p>');
        const label = document.querySelector(
          '[data-testid="stTextInput"] [data-testid="stWidgetLabel"]');
        label.insertAdjacentHTML('beforeend',
          '<p id="a11y-probe-label" style="color:#bbbbbb;background:#ffffff">Rótulo</p>');
        const menu = document.querySelector('[data-testid="stSidebarNavItems"]');
        menu.insertAdjacentHTML('beforeend',
          '<li id="a11y-probe-menu" style="color:#cccccc;background:#ffffff">Menu claro</li>');
    }"""
    )
    violations = audit(page)
    app = {(v["rule"], v["target"]) for v in violations if not v["framework"]}
    assert ("list", "#a11y-probe-list") in app, app
    # axe names the probe's <li> by a short path that need not carry the list's id.
    assert any(
        v["rule"] == "listitem" and v["html"] == "<li>Item da sonda</li>" and not v["framework"]
        for v in violations
    ), violations
    assert ("color-contrast", "#a11y-probe-grey") in app
    assert ("color-contrast", "#a11y-probe-menu") in app
    assert ("color-contrast", "#a11y-probe-label") in app  # an enabled widget's label


# About 25 pages a role, each opened, left idle and audited: minutes on a loaded machine.
@pytest.mark.timeout(1500)
@pytest.mark.parametrize("user_code", list(ROLES))
def test_logged_in_pages_have_no_app_owned_accessibility_violation(page: Page, user_code: str):
    login(page, user_code)
    expect(page.get_by_role("heading", name="Página inicial")).to_be_visible()
    _declares_portuguese(page)
    titles = _sidebar_titles(page)
    expected = [spec.title for spec in pages_for(ROLES[user_code])]
    assert set(expected) <= set(titles), set(expected) - set(titles)
    found: dict[str, list[dict]] = {}
    sidebar = page.get_by_test_id("stSidebar")
    for title in titles:
        sidebar.get_by_role("link", name=title, exact=True).click()
        expect(page.get_by_role("heading", name=title).first).to_be_visible()
        _declares_portuguese(page)
        found[title] = audit(page)
        _report(user_code, found)  # page by page: a run cut short still leaves its figures
    assert not _app_owned(found), "\n".join(_app_owned(found))
