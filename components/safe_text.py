"""User and file text shown as text: inert for the Markdown that Streamlit renders.

Most Streamlit calls (st.markdown, st.caption, st.title, st.subheader, the alerts,
expander and tab labels, metric and widget labels, help texts) render their text as
Markdown (GitHub flavour, with math, emoji and Material icon shortcodes). A name, a file
name or a header cell typed by someone else must never become a link, an image, HTML,
bold text, math or an icon there: `plain` escapes it. CommonMark allows a backslash
before any ASCII punctuation character, so every one of them is escaped; this also
breaks autolink literals ("http://", "www.", e-mail addresses), `$...$` math and
`:emoji:`/`:material/icon:` shortcodes, since each of those needs its punctuation
unescaped. The text reads the same on the screen.
"""

from __future__ import annotations

import re
import string

_ESCAPE = {ord(ch): "\\" + ch for ch in string.punctuation}
# GitHub's autolink literals ("http://x", "www.x", "a@b.c", "mailto:a@b.c") are found in
# the text after the escapes are resolved, so escaping cannot stop them: an invisible
# WORD JOINER (U+2060) between the scheme's colon and "//", after "www" and before "@"
# breaks each pattern and leaves the text reading the same.
WORD_JOINER = "\u2060"
_AUTOLINK = re.compile(r"(?<=[A-Za-z])(\\:)|(?i:(?<=www))(?=\\\.)|(?=\\@)")


def plain(text: object) -> str:
    """`text` escaped so that Streamlit's Markdown shows it exactly as written.

    None becomes "". Line breaks stay line breaks (a Markdown hard break), without the
    blank lines that would start a new paragraph; tabs and leading spaces cannot start
    a code block.
    """
    if text is None:
        return ""
    value = str(text).replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    lines = [_AUTOLINK.sub(_join, line.strip().translate(_ESCAPE)) for line in value.split("\n")]
    return "  \n".join(line for line in lines if line)


def _join(match: re.Match[str]) -> str:
    colon = match.group(1)
    return colon + WORD_JOINER if colon else WORD_JOINER
