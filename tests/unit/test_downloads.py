"""components/downloads.py: a download built on click is deleted only after a minute
unreferenced (the end-to-end regression: tests/e2e/test_load_client_e2e.py)."""

from __future__ import annotations

import pytest
from streamlit.runtime.media_file_manager import MediaFileMetadata
from streamlit.runtime.media_file_storage import MediaFileKind

from components import downloads


def test_an_unreferenced_download_is_deletable_only_a_minute_after_it_was_first_marked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert downloads.keep_built_downloads() is True
    assert downloads.keep_built_downloads() is True  # once per process, idempotent
    clock = [1000.0]
    monkeypatch.setattr(downloads.time, "monotonic", lambda: clock[0])
    file = MediaFileMetadata(kind=MediaFileKind.DOWNLOADABLE)
    assert not file.is_marked_for_delete
    file.mark_for_delete()  # the first pass after a run that does not reference it
    clock[0] += 30
    file.mark_for_delete()  # later passes do not restart the minute
    assert not file.is_marked_for_delete
    clock[0] += 30
    assert file.is_marked_for_delete
