"""Every page the menu offers opens without an error, for each kind of user."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from components.navigation import pages_for
from services.actors import ALL_PERMISSIONS, Actor, Permission, Role
from tests.e2e.conftest import wait_idle
from tests.e2e.test_access_and_home import login

pytestmark = pytest.mark.e2e

ROLES = {
    "900001": Actor(1, "900001", "", Role.ACCOUNT_MANAGER, frozenset(ALL_PERMISSIONS), frozenset()),
    "100002": Actor(
        2,
        "100002",
        "",
        Role.USER,
        frozenset({Permission.MOVEMENTS, Permission.REPORTS}),
        frozenset(),
    ),
}


@pytest.mark.parametrize("user_code", list(ROLES))
def test_every_menu_page_opens_without_an_error(page: Page, user_code: str):
    login(page, user_code)
    expect(page.get_by_role("heading", name="Página inicial")).to_be_visible()
    sidebar = page.get_by_test_id("stSidebar")
    for spec in pages_for(ROLES[user_code]):
        sidebar.get_by_role("link", name=spec.title, exact=True).click()
        expect(page.get_by_role("heading", name=spec.title).first).to_be_visible()
        wait_idle(page)  # the page's run is over before looking for errors
        expect(page.get_by_test_id("stException")).to_have_count(0)
        assert "Traceback" not in page.content()
