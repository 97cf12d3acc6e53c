"""Settings read from PORTAL_* environment variables (and an optional .env file)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent
DEFAULT_SQLITE = ROOT / "instance" / "portal.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PORTAL_", env_file=".env", extra="ignore")

    database_url: str = f"sqlite:///{DEFAULT_SQLITE}"
    # Secret that signs the login cookie; change it in production.
    cookie_key: str = "troque-esta-chave-em-producao-portal-empresa-2026"
    cookie_name: str = "portal_empresa_auth"
    cookie_expiry_days: float = 0.5
    # Minutes of inactivity after which a session must log in again.
    session_idle_minutes: int = 30
    base_url: str = "http://localhost:8501"
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_sender: str = "portal@sorriso.example"
    smtp_starttls: bool = True
    # Show the "Caixa de saída" page (demo outbox, holds reset links!): demos only.
    show_outbox: bool = False
    dev_mode: bool = False


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
