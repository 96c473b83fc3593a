"""Settings, read from the environment (prefix ``PEERBRIDGE_``) and from ``.env``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECRET = "development-only-secret-change-me"  # noqa: S105 - refused outside development
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
# Addresses that mean "every interface": a link to them reaches nobody, so links use loopback.
_WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "[::]"})  # noqa: S104 - only compared with


def serving_base_url(host: str, port: int) -> str:
    """The base URL of a server listening on ``host``:``port`` (``http://host:port``).

    A wildcard address (0.0.0.0, ::) becomes 127.0.0.1; an IPv6 address is bracketed.
    """
    host = host.strip()
    if host in _WILDCARD_HOSTS:
        host = DEFAULT_HOST
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


class Settings(BaseSettings):
    """Everything that differs between a laptop, CI and production."""

    model_config = SettingsConfigDict(env_prefix="PEERBRIDGE_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'peerbridge.db'}"
    secret_key: str = DEFAULT_SECRET
    # Links in emails start with this. Unset (or empty): the address `peerbridge serve` listens
    # on, http://serve_host:serve_port (the serve command sets those two for its processes).
    base_url: str = ""
    serve_host: str = DEFAULT_HOST
    serve_port: int = Field(default=DEFAULT_PORT, ge=1, le=65535)

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
    # The RQ queue's name: one per deployment sharing a Redis (and per test run).
    queue_name: str = Field(default="peerbridge", min_length=1, max_length=100)
    jobs_interval_seconds: float = Field(default=2.0, gt=0)
    # The pass's steps that scan every active mentorship (check-ins, quiet-pair nudges) or pair
    # the month's peers run at most this often, whatever the pass's own interval.
    scan_interval_seconds: float = Field(default=300.0, ge=0)
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
    # Relationship health: a pair with no session for this many weeks is nudged (both sides,
    # once per quiet spell); quiet for another ``mentorship_attention_weeks`` too, it is on the
    # organisers' "needs attention" list. Each side is asked "How is it going?" every
    # ``check_in_days`` days of an active mentorship.
    mentorship_quiet_weeks: int = Field(default=4, ge=1)
    mentorship_attention_weeks: int = Field(default=4, ge=1)
    check_in_days: int = Field(default=30, ge=7)

    # Community: posting limits per member per hour.
    community_posts_per_hour: int = Field(default=5, ge=1)
    community_comments_per_hour: int = Field(default=30, ge=1)
    community_reports_per_hour: int = Field(default=20, ge=1)
    # Messages: how many one member may send an hour, across all their threads.
    messages_per_hour: int = Field(default=60, ge=1)

    # Events: when on, any verified member may create a webinar or meetup for the whole
    # network or a chapter they belong to (and change or cancel their own); off, only
    # organisers create events.
    members_create_events: bool = False

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
    # Second factors. Organisers and admins must have one (TOTP or a passkey) before any
    # organiser or admin operation works; unset means on in production, off elsewhere.
    require_second_factor_for_staff: bool | None = None
    # After the right password, this long to give the second factor before starting again.
    second_factor_pending_minutes: int = Field(default=5, ge=1, le=60)
    # Erasure and role changes need a second factor proved within this many minutes.
    step_up_minutes: int = Field(default=10, ge=1, le=120)
    # WebAuthn relying party: id (a domain; browsers refuse IP addresses, so use "localhost"
    # in development) and origin; unset means taken from base_url.
    webauthn_rp_id: str | None = None
    webauthn_origin: str | None = None
    webauthn_rp_name: str = "peerbridge"
    graphql_max_depth: int = Field(default=10, ge=2)
    graphql_max_aliases: int = Field(default=15, ge=1)
    graphql_max_tokens: int = Field(default=2000, ge=100)
    max_page_size: int = Field(default=100, ge=1)
    max_import_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    # Argon2id parameters (OWASP: >= 19 MiB, t=2, p=1).
    argon2_memory_kib: int = Field(default=19456, ge=19456)
    argon2_time_cost: int = Field(default=2, ge=2)
    argon2_parallelism: int = Field(default=1, ge=1)

    # Single sign-on with OpenID Connect (backend/accounts/sso.py). Off until an issuer and a
    # client id are set. Entra ID (NHSmail): the tenant's issuer, such as
    # https://login.microsoftonline.com/<tenant id>/v2.0 (not "common": its tokens name the
    # tenant, so they cannot match one issuer).
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    # Comma-separated email domains that may sign in this way ("nhs.net"); subdomains are not
    # included unless listed. Empty: nobody may (a provider is never trusted for every domain).
    oidc_allowed_email_domains: str = "nhs.net"
    # The provider's name as people know it, on the button ("Sign in with NHSmail") and pages.
    oidc_provider_name: str = "NHSmail"
    # Seconds of clock difference allowed when checking an ID token's times.
    oidc_leeway_seconds: int = Field(default=60, ge=0, le=300)
    oidc_timeout_seconds: float = Field(default=10.0, gt=0, le=60)

    @property
    def oidc_enabled(self) -> bool:
        """True when single sign-on is configured (an issuer and a client id)."""
        return bool(self.oidc_issuer and self.oidc_client_id)

    @property
    def oidc_domains(self) -> tuple[str, ...]:
        """The allowed email domains, folded to lower case."""
        parts = (
            part.strip().lower().lstrip("@") for part in self.oidc_allowed_email_domains.split(",")
        )
        return tuple(part for part in parts if part)

    @property
    def is_development(self) -> bool:
        """True on a developer's machine (GraphiQL, plain-HTTP cookies)."""
        return self.environment == "development"

    @property
    def is_production(self) -> bool:
        """True where real people's data lives."""
        return self.environment == "production"

    @property
    def second_factor_required_for_staff(self) -> bool:
        """Whether organisers and admins must have a second factor (on in production)."""
        if self.require_second_factor_for_staff is not None:
            return self.require_second_factor_for_staff
        return self.is_production

    @property
    def run_jobs_in_process(self) -> bool:
        """Whether the web process itself runs the background jobs."""
        if self.jobs_in_process is not None:
            return self.jobs_in_process
        return self.database_url.startswith("sqlite") and self.environment != "test"

    @model_validator(mode="after")
    def _resolve_base_url(self) -> Settings:
        """An explicit base URL wins; otherwise the address the server listens on."""
        if not self.base_url.strip():
            self.base_url = serving_base_url(self.serve_host, self.serve_port)
        return self

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
        if (
            self.environment == "production"
            and self.oidc_issuer
            and not self.oidc_issuer.startswith("https://")
        ):
            raise ValueError("PEERBRIDGE_OIDC_ISSUER must be an https:// address in production")
        return self


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
