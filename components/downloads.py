"""Files that a download button builds when clicked stay downloadable for a minute.

`st.download_button(data=callable)` (used across the portal so that an export is built
only when asked for) has a defect in Streamlit 1.67: the file the click builds is
referenced by no session, and the media file manager, which after every script run of
*any* session marks an unreferenced download and deletes it at the next pass, deletes it
after two other runs. On a busy portal two other users' clicks come between the answer
and the browser's request for the file, and the download is a 404 (found by the load test,
benchmarks/load_ws.py; tests/e2e/test_load_client_e2e.py reproduces it).

`keep_built_downloads` makes an unreferenced download deletable only once it has been
unreferenced for KEEP_SECONDS, by replacing the two members of Streamlit's
MediaFileMetadata that decide it. It patches Streamlit's internals on purpose, in one
place, and only the version it was written for: with another Streamlit it does nothing
and logs why, and the regression test says whether the defect is back.
"""

from __future__ import annotations

import logging
import time

import streamlit
from streamlit.runtime import media_file_manager

KEEP_SECONDS = 60.0
WRITTEN_FOR = ("1.67.",)

log = logging.getLogger("portal")


def keep_built_downloads(seconds: float = KEEP_SECONDS) -> bool:
    """Apply the fix once per process; whether it is in place."""
    metadata = media_file_manager.MediaFileMetadata
    if getattr(metadata, "portal_keeps_downloads", False):
        return True
    if not streamlit.__version__.startswith(WRITTEN_FOR) or not hasattr(
        metadata, "mark_for_delete"
    ):
        log.warning(
            "keep_built_downloads: written for Streamlit %s, running %s; not applied",
            WRITTEN_FOR,
            streamlit.__version__,
        )
        return False

    def mark_for_delete(self: media_file_manager.MediaFileMetadata) -> None:
        if getattr(self, "portal_unreferenced_since", None) is None:
            self.portal_unreferenced_since = time.monotonic()  # type: ignore[attr-defined]

    def is_marked_for_delete(self: media_file_manager.MediaFileMetadata) -> bool:
        since = getattr(self, "portal_unreferenced_since", None)
        return since is not None and time.monotonic() - since >= seconds

    metadata.mark_for_delete = mark_for_delete  # type: ignore[method-assign]
    metadata.is_marked_for_delete = property(is_marked_for_delete)  # type: ignore[assignment,method-assign]
    metadata.portal_keeps_downloads = True  # type: ignore[attr-defined]
    return True
