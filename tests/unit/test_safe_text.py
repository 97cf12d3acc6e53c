"""components.safe_text.plain: user text made inert for Streamlit's Markdown."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from components.safe_text import WORD_JOINER, plain

MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])
HOSTILE = [
    "[clique](http://evil.example)",
    "![x](http://evil.example/x.png)",
    "<img src=x onerror=alert(1)>",
    "<http://evil.example>",
    "**negrito** __sublinhado__ *it* _it_ ~~riscado~~ `código`",
    "$x^2$ $$y$$",
    ":smile: :material/home: :red[vermelho]",
    "www.evil.example evil@evil.example http://evil.example",
    "# título",
    "- item",
    "1. item",
    "> citação",
    "---",
    "| a | b |",
    "&lt;b&gt; &amp;",
    "a\\*b",
]


def _rendered_text(source: str) -> str:
    """What the reader sees: the text of the tokens, with no markup."""
    out = []
    for token in MD.parse(source):
        assert token.type in ("paragraph_open", "paragraph_close", "inline"), token
        for child in token.children or []:
            assert child.type in ("text", "softbreak", "hardbreak"), child
            out.append(child.content if child.type == "text" else "\n")
    return "".join(out).replace(WORD_JOINER, "")


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_markdown_renders_as_the_same_text(text: str) -> None:
    assert _rendered_text(plain(text)) == text


def test_ordinary_text_is_left_as_typed() -> None:
    text = "Informe o nome completo (nome e sobrenome). CPF inválido: confira; 50% - ok!"
    assert plain(text) == text
    assert plain("tipo_movimento, nome_mae") == "tipo_movimento, nome_mae"


def test_line_breaks_stay_and_blank_lines_and_indentation_go() -> None:
    assert _rendered_text(plain("linha 1\r\n\n    linha 2\tfim")) == "linha 1\nlinha 2 fim"
    assert plain(None) == ""


@given(st.text(alphabet=st.characters(categories=["L", "N", "P", "S", "Zs"]), max_size=60))
def test_any_text_renders_as_itself_without_markup(text: str) -> None:
    expected = "\n".join(" ".join(line.split()) for line in [text] if line.strip())
    rendered = " ".join(_rendered_text(plain(text)).split())
    assert rendered == " ".join(expected.split())
