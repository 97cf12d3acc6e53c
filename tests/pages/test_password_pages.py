"""Alterar senha in the frame: wrong current passwords lock the user like the login."""

from __future__ import annotations

from tests.pages.conftest import by_label, log_in

WRONG = "Errada#Senha1"
NEW = "Nova#Senha77"


def _shown(elements) -> list[str]:  # noqa: ANN001
    """Messages as the user reads them (user text is Markdown-escaped on screen)."""
    return [e.value.replace("\\", "") for e in elements]


def _try_change(at, current: str):  # noqa: ANN001, ANN202
    by_label(at.text_input, "Senha atual *").input(current)
    by_label(at.text_input, "Nova senha *").input(NEW)
    by_label(at.text_input, "Confirme a nova senha *").input(NEW)
    by_label(at.button, "Alterar senha").click().run()
    assert not at.exception, at.exception
    return at


def test_five_wrong_current_passwords_lock_the_user_and_end_the_session(app):
    at = log_in(app(), "100002")
    at.switch_page("pages/change_password.py").run()
    assert at.title[0].value == "Alterar senha"
    for left in (4, 3, 2, 1):
        _try_change(at, WRONG)
        assert any(f"Mais {left} tentativa(s)" in m for m in _shown(at.error))
    _try_change(at, WRONG)
    # Back at the login, which says why; the right password is refused while locked.
    assert at.title[0].value == "Portal Empresa"
    assert any("bloqueado por 15 minutos" in m for m in _shown(at.warning))
    at = log_in(app(), "100002")
    assert any("inválidos" in m for m in _shown(at.error))
    assert at.title[0].value == "Portal Empresa"


def test_the_page_states_the_length_limit(app):
    at = log_in(app(), "100002")
    at.switch_page("pages/change_password.py").run()
    policy = " ".join(m.value for m in at.markdown)
    assert "no máximo **72**" in policy and "acentuadas" in policy
