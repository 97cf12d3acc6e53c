"""The portal's areas and pages: one registry for the menu and the home shortcuts.

A page is listed only once it is built; a user sees only what its permissions allow.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.actors import Actor, Permission


@dataclass(frozen=True)
class PageSpec:
    path: str
    title: str
    icon: str
    url_path: str
    area: str
    permission: Permission | None = None
    shortcut: str | None = None  # label on the home page's "Atalhos"


PAGES: list[PageSpec] = [
    PageSpec("pages/home.py", "Página inicial", ":material/home:", "inicio", "Início"),
]


def pages_for(actor: Actor) -> list[PageSpec]:
    return [p for p in PAGES if p.permission is None or actor.can(p.permission)]


def areas_for(actor: Actor) -> dict[str, list[PageSpec]]:
    areas: dict[str, list[PageSpec]] = {}
    for page in pages_for(actor):
        areas.setdefault(page.area, []).append(page)
    return areas


def shortcuts_for(actor: Actor) -> list[PageSpec]:
    return [p for p in pages_for(actor) if p.shortcut]
