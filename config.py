"""Settings read from PORTAL_* environment variables (and an optional .env file)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent
DEFAULT_SQLITE = ROOT / "instance" / "portal.db"


DEMO_COOKIE_KEY = "troque-esta-chave-em-producao-portal-empresa-2026"
MIN_COOKIE_KEY_BYTES = 32
# Streamlit's own default port, used in links when neither PORTAL_BASE_URL nor the
# server's port is known (command line tools).
DEFAULT_PORT = 8501


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PORTAL_", env_file=".env", extra="ignore")

    # "production" refuses to start with demo settings (see `production_problems`).
    environment: Literal["development", "production"] = "development"
    database_url: str = f"sqlite:///{DEFAULT_SQLITE}"
    # Secret that signs the login cookie; production requires one of its own.
    cookie_key: str = DEMO_COOKIE_KEY
    cookie_name: str = "portal_empresa_auth"
    cookie_expiry_days: float = 0.5
    # Minutes of inactivity after which a session must log in again.
    session_idle_minutes: int = 30
    # The address e-mailed links point at. Empty: http://localhost:<the port Streamlit
    # serves on> (see `link_base`); production requires an https address of its own.
    base_url: str = ""
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_sender: str = "portal@sorriso.example"
    smtp_starttls: bool = True
    # True when the portal is reached only through our reverse proxy (nginx of
    # deploy/nginx.conf.template), which overwrites X-Real-IP with the connection's
    # address: the browser's address is then read from it (rate limits, audit). Never set
    # it when browsers can reach the portal directly (they could forge the header).
    behind_proxy: bool = False
    # Show the "Caixa de saída" page (demo outbox, holds reset links!): demos only.
    show_outbox: bool = False

    def link_base(self, port: int | None = None) -> str:
        """The start of every e-mailed link: PORTAL_BASE_URL when set, otherwise the
        portal on this machine at `port` (the server's own port, never a request's Host
        header, which a visitor chooses)."""
        if self.base_url.strip():
            return self.base_url.strip().rstrip("/")
        return f"http://localhost:{port or DEFAULT_PORT}"

    def production_problems(self) -> list[str]:
        """Why these settings must not serve real users (empty outside production)."""
        if self.environment != "production":
            return []
        problems = []
        if self.cookie_key == DEMO_COOKIE_KEY:
            problems.append(
                "PORTAL_COOKIE_KEY não foi definida: a chave de demonstração é pública."
            )
        elif len(self.cookie_key.encode("utf-8")) < MIN_COOKIE_KEY_BYTES:
            problems.append(
                f"PORTAL_COOKIE_KEY tem menos de {MIN_COOKIE_KEY_BYTES} bytes: gere uma chave "
                "longa e aleatória (por exemplo: python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))')."
            )
        if self.show_outbox:
            problems.append("PORTAL_SHOW_OUTBOX expõe e-mails com links de senha: desligue-a.")
        if not self.base_url.startswith("https://"):
            problems.append("PORTAL_BASE_URL deve começar com https:// em produção.")
        return problems


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
