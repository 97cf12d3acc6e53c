"""The task queue's settings, read like config.Settings from PORTAL_* variables (and .env).

- PORTAL_QUEUE_URL: empty (the default) runs the queue embedded: a SqliteHuey file next to
  the SQLite database (or in the instance folder when the database is PostgreSQL), served
  by consumer threads inside the portal process. `redis://host:port/db` runs it
  distributed (RedisHuey): `portal-worker` processes take the jobs. `immediate` runs each
  job at once inside the caller (Huey's immediate mode: debugging and page tests).
- PORTAL_QUEUE_PATH: the embedded queue's file, when not the default one.
- PORTAL_QUEUE_NAME: the queue's name (two portals sharing one Redis need two names).
- PORTAL_QUEUE_WORKERS: consumer threads (embedded, and `portal-worker` by default).
- PORTAL_JOB_STALL_SECONDS: a job silent this long is taken for dead and queued again.
- PORTAL_BILLING_AT_CUTOFF: true issues each company's invoices by itself once its
  cut-off has passed (a daily job, services/jobs/billing.py); off by default.
"""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class QueueSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PORTAL_", env_file=".env", extra="ignore")

    queue_url: str = ""
    queue_path: str = ""
    queue_name: str = "portal-empresa"
    queue_workers: int = 2
    job_stall_seconds: float = 120.0
    billing_at_cutoff: bool = False


def queue_settings() -> QueueSettings:
    """The process's queue settings, read once per set of PORTAL_* values (a page polling
    a job every 2 s must not read .env each time); a changed variable is read again."""
    return _read(tuple(os.environ.get(f"PORTAL_{name.upper()}") for name in _FIELDS))


_FIELDS = tuple(QueueSettings.model_fields)


@lru_cache(maxsize=8)
def _read(_environment: tuple[str | None, ...]) -> QueueSettings:
    return QueueSettings()
