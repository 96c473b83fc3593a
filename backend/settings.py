"""Settings, read from the environment (prefix ``PEERBRIDGE_``) and from ``.env``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECRET = "development-only-secret-change-me"  # noqa: S105 - refused outside development


class Settings(BaseSettings):
    """Everything that differs between a laptop, CI and production."""

    model_config = SettingsConfigDict(env_prefix="PEERBRIDGE_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'peerbridge.db'}"
    secret_key: str = DEFAULT_SECRET
    base_url: str = "http://127.0.0.1:8000"

    # Email: "file" writes each message to mail_dir (development); "smtp" sends over SMTP.
    email_backend: Literal["file", "smtp"] = "file"
    mail_dir: Path = PROJECT_ROOT / "var" / "mail"
    email_from: str = "peerbridge <no-reply@peerbridge.invalid>"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = 10.0

    # Background work (outbox, expiries). None = in-process with SQLite outside tests; with
    # PostgreSQL run `peerbridge worker` processes instead, so the web tier stays stateless.
    jobs_in_process: bool | None = None
    # Redis for the job queue (RQ). Without it, jobs such as matching rounds run in a thread
    # of the process that started them (the embedded default).
    redis_url: str | None = None
    jobs_interval_seconds: float = Field(default=2.0, gt=0)
    # A running job (round, import) touches its heartbeat at least this often; one whose
    # heartbeat is older than job_stale_seconds is marked failed, to be run again.
    job_heartbeat_seconds: float = Field(default=5.0, gt=0)
    job_stale_seconds: float = Field(default=120.0, gt=0)

    # PostgreSQL connections. Per process: pool_size kept open plus max_overflow opened under
    # load. Or one budget, db_connections, shared by the processes of `serve --workers N`
    # (each gets db_connections // N). See the README on sizing against max_connections.
    db_pool_size: int = Field(default=5, ge=1)
    db_max_overflow: int = Field(default=5, ge=0)
    db_connections: int | None = Field(default=None, ge=1)
    db_pool_timeout_seconds: float = Field(default=30.0, gt=0)
    # How many processes share db_connections; `peerbridge serve --workers N` sets it.
    processes: int = Field(default=1, ge=1)

    # Observability (backend/observability.py). Logs: "json" (one object per line) or "text";
    # unset means JSON in production and text elsewhere.
    log_format: Literal["json", "text"] | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # /metrics is off (404) until a token is set; scrapers send "Authorization: Bearer <token>".
    metrics_token: str | None = Field(default=None, min_length=16)
    # `peerbridge worker` serves its own /metrics (no token) on this port of metrics_host.
    worker_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_host: str = "127.0.0.1"
    readiness_timeout_seconds: float = Field(default=2.0, gt=0, le=30)

    # Mentoring.
    request_expiry_days: int = Field(default=14, ge=1)
    request_nudge_days: int = Field(default=7, ge=1)

    # Community: posting limits per member per hour.
    community_posts_per_hour: int = Field(default=5, ge=1)
    community_comments_per_hour: int = Field(default=30, ge=1)
    community_reports_per_hour: int = Field(default=20, ge=1)

    # Insights: the secret behind the cell-key perturbation's record keys (HMAC-SHA256). Unset:
    # derived from secret_key (so rotating that re-draws every figure too). A new secret gives
    # every figure a fresh perturbation, a new look for anyone comparing before and after: set
    # it once and keep it; never show it to organisers.
    insights_secret: str | None = Field(default=None, min_length=32)

    # Limits.
    session_days: int = Field(default=14, ge=1)
    # A session unused for this long ends (and is purged), however long its lifetime left.
    session_idle_minutes: int = Field(default=720, ge=5)
    verification_hours: int = Field(default=48, ge=1)
    password_reset_minutes: int = Field(default=60, ge=5)
    invitation_days: int = Field(default=14, ge=1)
    login_failures_before_backoff: int = Field(default=5, ge=1)
    # The back-off above is per account and client; the account as a whole backs off only after
    # this many failures from anywhere, so nobody can lock the owner out from elsewhere.
    login_account_failures_before_backoff: int = Field(default=100, ge=1)
    login_backoff_max_seconds: int = Field(default=900, ge=1)
    # Emails that anyone can ask for (reset links, verification links, "someone tried to join
    # with your address"): at most this many an hour to one address, and from one client.
    account_emails_per_address_per_hour: int = Field(default=3, ge=1)
    account_emails_per_client_per_hour: int = Field(default=20, ge=1)
    graphql_max_depth: int = Field(default=10, ge=2)
    graphql_max_aliases: int = Field(default=15, ge=1)
    graphql_max_tokens: int = Field(default=2000, ge=100)
    max_page_size: int = Field(default=100, ge=1)
    max_import_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    # Argon2id parameters (OWASP: >= 19 MiB, t=2, p=1).
    argon2_memory_kib: int = Field(default=19456, ge=19456)
    argon2_time_cost: int = Field(default=2, ge=2)
    argon2_parallelism: int = Field(default=1, ge=1)

    @property
    def is_development(self) -> bool:
        """True on a developer's machine (GraphiQL, plain-HTTP cookies)."""
        return self.environment == "development"

    @property
    def is_production(self) -> bool:
        """True where real people's data lives."""
        return self.environment == "production"

    @property
    def run_jobs_in_process(self) -> bool:
        """Whether the web process itself runs the background jobs."""
        if self.jobs_in_process is not None:
            return self.jobs_in_process
        return self.database_url.startswith("sqlite") and self.environment != "test"

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.environment == "production" and (
            self.secret_key == DEFAULT_SECRET or len(self.secret_key) < 32
        ):
            raise ValueError(
                "PEERBRIDGE_SECRET_KEY must be set to a random value of at least 32 characters "
                "outside development (for example: python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))')"
            )
        return self


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
