"""User and file text shown as text: inert for the Markdown that Streamlit renders.

Most Streamlit calls (st.markdown, st.caption, st.title, st.subheader, the alerts,
expander and tab labels, metric and widget labels, help texts) render their text as
Markdown (GitHub flavour, with math, emoji and Material icon shortcodes). A name, a file
name or a header cell typed by someone else must never become a link, an image, HTML,
bold text, math or an icon there: `plain` escapes it with backslashes (CommonMark
allows one before any ASCII punctuation character), only where a character could be
syntax, so that ordinary punctuation stays as typed: emphasis, code, link, image, HTML,
entity, math, strikethrough and table characters everywhere, a colon before a word
(shortcodes), and list, quote, heading and rule markers at the start of a line. Autolink
literals get an invisible word joiner (see below). The text reads the same on screen.
"""

from __future__ import annotations

import re

# Characters that are Markdown (or Streamlit) syntax wherever they stand: emphasis,
# code, links and images, HTML and entities, math, strikethrough, tables, directives.
_ESCAPE = {ord(ch): "\\" + ch for ch in "\\`*{}[]<>#|~$&"}
# An underscore is emphasis unless it stands between two letters or digits (snake_case).
_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")
# Syntax only at the start of a line: lists, quotes, headings, rules, ordered lists.
_LINE_START = re.compile(r"^([-+=>]|\d+[.)])")
# Shortcodes (:emoji:, :material/icon:, :red[...]) and GitHub's autolink literals
# ("http://x", "www.x", "a@b.c") are found in the text after the backslash escapes are
# resolved, so escaping cannot stop them: an invisible WORD JOINER (U+2060) after a colon
# that touches the next character, after "www" and before "@" breaks each pattern and
# leaves the text reading the same.
WORD_JOINER = "\u2060"
_JOIN = re.compile(r"(?<=:)(?=\S)|(?i:(?<=www))(?=\.)|(?=@)")


def plain(text: object) -> str:
    """`text` escaped so that Streamlit's Markdown shows it exactly as written.

    None becomes "". Line breaks stay line breaks (a Markdown hard break), without the
    blank lines that would start a new paragraph; tabs and leading spaces cannot start
    a code block.
    """
    if text is None:
        return ""
    value = str(text).replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    lines = [_line(line.strip()) for line in value.split("\n")]
    return "  \n".join(line for line in lines if line)


def _line(line: str) -> str:
    line = _UNDERSCORE.sub(r"\\_", line.translate(_ESCAPE))
    line = _LINE_START.sub(lambda m: m.group(0)[:-1] + "\\" + m.group(0)[-1], line)
    return _JOIN.sub(WORD_JOINER, line)
