"""Settings: a YAML file with ``${VAR}`` interpolation, overridden by the environment.

The seed's keys (``tickets.*``) and environment variables (``TICKETS_GITHUB_*``,
``TICKETS_MAX_ATTACHMENT_SIZE_MB``) are kept verbatim; the rest are listed in
``ENV_KEYS``. A bad value stops start-up with a ``ConfigError`` naming the key.
"""

import ipaddress
import os
import re
import secrets
import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from urllib.parse import parse_qsl, unquote, urlsplit

import psycopg
import yaml
from fastapi import Depends, Request
from psycopg.conninfo import conninfo_to_dict
from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_core import ErrorDetails

from ticketdesk.validation import hostname, mail_address

# Environment variable → dotted key. Environment wins over the YAML file.
ENV_KEYS: dict[str, str] = {
    "DATABASE_URL": "database_url",
    "REDIS_URL": "redis_url",
    "TICKETDESK_DATA_DIR": "data_dir",
    "TICKETDESK_HOST": "host",
    "TICKETDESK_PORT": "port",
    "TICKETDESK_WORKERS": "workers",
    "TICKETDESK_BASE_URL": "base_url",
    "TICKETDESK_SECRET_KEY": "secret_key",
    "TICKETDESK_SIGNUP_ENABLED": "signup_enabled",
    "TICKETDESK_TRUSTED_PROXIES": "trusted_proxies",
    "TICKETDESK_INTERNAL_EMAIL_DOMAINS": "internal_email_domains",
    "TICKETDESK_LOG_LEVEL": "log_level",
    "TICKETDESK_LOG_FORMAT": "log_format",
    "TICKETDESK_METRICS_TOKEN": "metrics_token",
    "TICKETDESK_SMTP_URL": "smtp_url",
    "TICKETDESK_MAIL_FROM": "mail_from",
    "TICKETDESK_IMAP_URL": "imap_url",
    "TICKETDESK_MAIL_OPEN_TICKETS": "mail.open_tickets_by_mail",
    "TICKETDESK_VERIFY_EMAIL": "accounts.verify_email",
    "TICKETDESK_S3_BUCKET": "s3.bucket",
    "TICKETDESK_S3_ENDPOINT": "s3.endpoint",
    "TICKETDESK_S3_REGION": "s3.region",
    "TICKETDESK_S3_ACCESS_KEY_ID": "s3.access_key_id",
    "TICKETDESK_S3_SECRET_ACCESS_KEY": "s3.secret_access_key",
    "TICKETDESK_S3_ALLOW_HTTP": "s3.allow_http",
    "TICKETS_ENABLED": "tickets.enabled",
    "TICKETS_MAX_ATTACHMENT_SIZE_MB": "tickets.max_attachment_size_mb",
    "TICKETS_ALLOW_ATTACHMENTS": "tickets.allow_attachments",
    "TICKETS_ALLOWED_ATTACHMENT_TYPES": "tickets.allowed_attachment_types",
    "TICKETS_ATTACHMENT_DELETE_WINDOW_MINUTES": "tickets.attachment_delete_window_minutes",
    "TICKETS_ATTACHMENT_QUOTA_MB": "tickets.attachment_quota_mb",
    "TICKETS_REOPEN_WINDOW_DAYS": "tickets.reopen_window_days",
    "TICKETS_AUTO_CLOSE_DAYS": "tickets.auto_close_days",
    "TICKETS_REPLY_MOVES_TO_WAITING": "tickets.reply_moves_to_waiting",
    "TICKETS_MERGE_UNDO_MINUTES": "tickets.merge_undo_minutes",
    "TICKETS_GITHUB_ENABLED": "tickets.github.enabled",
    "TICKETS_GITHUB_REPO": "tickets.github.repo",
    "TICKETS_GITHUB_TOKEN": "tickets.github.token",
    "TICKETS_GITHUB_AUTO_CREATE_ISSUES": "tickets.github.auto_create_issues",
    "TICKETS_GITHUB_WEBHOOK_SECRET": "tickets.github.webhook_secret",
    "TICKETS_GITHUB_API_URL": "tickets.github.api_url",
    "TICKETDESK_JOBS_CONCURRENCY": "jobs.concurrency",
    "TICKETDESK_NOTIFY_NEW_TICKETS": "notifications.new_tickets",
    "TICKETDESK_NOTIFY_BURST_SECONDS": "notifications.burst_seconds",
    "TICKETDESK_WEBHOOKS_ALLOW_PRIVATE_TARGETS": "webhooks.allow_private_targets",
    "TICKETDESK_ESCALATION_PRIORITY": "escalation.priority",
    "TICKETDESK_ESCALATION_AFTER_HOURS": "escalation.after_hours",
    "TICKETDESK_RATE_LIMIT_TICKETS_PER_HOUR": "rate_limits.tickets_per_hour",
    "TICKETDESK_RATE_LIMIT_COMMENTS_PER_HOUR": "rate_limits.comments_per_hour",
    "TICKETDESK_AUDIT_RETENTION_DAYS": "audit.retention_days",
}
ENV_BY_KEY = {key: env for env, key in ENV_KEYS.items()}

_INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


DomainName = Annotated[str, AfterValidator(hostname)]
MailAddress = Annotated[str, AfterValidator(mail_address)]


def _ip_network(value: str) -> str:
    """An address or a network in CIDR form (``10.0.0.0/8``), as written."""
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValueError(f"{value!r} is not an IP address or network") from None
    if "/" in value:
        # The proxy-headers middleware reads a network with host bits set as a name that
        # no address matches: refused here rather than trusting nobody without a word.
        try:
            ipaddress.ip_network(value)
        except ValueError:
            raise ValueError(f"{value!r} has host bits set: the network is {network}") from None
    return value


IpNetwork = Annotated[str, AfterValidator(_ip_network)]


def _comma_separated(value: Any) -> Any:
    """A list from ``a,b,c`` as environment variables give it; anything else as it is."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class ConfigError(Exception):
    """A setting is missing or wrong; the message names the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GitHubSettings(_Section):
    """``tickets.github``: the optional two-way GitHub integration."""

    enabled: bool = False
    repo: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")] | None = None
    token: SecretStr | None = None
    auto_create_issues: bool = False
    webhook_secret: SecretStr | None = None
    api_url: AnyHttpUrl = AnyHttpUrl("https://api.github.com")
    # A GitHub call that takes longer fails and its job is retried later.
    timeout_seconds: Annotated[float, Field(gt=0, le=300)] = 10.0

    @property
    def owner_and_name(self) -> tuple[str, str]:
        """The configured repository as ``(owner, name)``."""
        assert self.repo is not None
        owner, name = self.repo.split("/", 1)
        return owner, name


# What the attachment sniffer recognises from a file's bytes; the allow-list picks from it.
AttachmentMediaType = Literal[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "application/zip",
    "application/json",
    "text/plain",
]


class JobsSettings(_Section):
    """``jobs``: the background job queue and its workers."""

    concurrency: Annotated[int, Field(ge=1, le=100)] = 4
    # A failed attempt waits retry_base_seconds * 2**attempt (with jitter), at most
    # retry_cap_seconds, and the job gives up after max_attempts attempts.
    retry_base_seconds: Annotated[float, Field(gt=0)] = 2.0
    retry_cap_seconds: Annotated[float, Field(gt=0)] = 3600.0
    max_attempts: Annotated[int, Field(ge=1, le=100)] = 12
    # How often an idle worker looks for due jobs besides being woken by NOTIFY.
    poll_interval_seconds: Annotated[float, Field(gt=0)] = 5.0
    # A worker whose heartbeat is older than this is presumed dead; its jobs are rerun.
    stalled_after_seconds: Annotated[float, Field(gt=0)] = 30.0


class AccountsSettings(_Section):
    """``accounts``: how people get and keep their accounts."""

    # Sign-up mails a link, and the new account cannot sign in until it is followed.
    verify_email: bool = False


class NotificationsSettings(_Section):
    """``notifications``: the mail ticketdesk sends about tickets."""

    # Which staff hear of a new ticket: every agent and admin, only while nobody has
    # taken it (checked when the mail goes out), or nobody.
    new_tickets: Literal["all", "unassigned", "none"] = "all"
    # Changes to one ticket within this many seconds of the first reach each person as
    # one mail.
    burst_seconds: Annotated[float, Field(ge=0, le=3600)] = 60.0


class WebhooksSettings(_Section):
    """``webhooks``: the HTTP calls ticketdesk makes to the endpoints admins register."""

    # On: endpoints may be on loopback, private or link-local addresses (a lab, a test).
    # Off, such targets are refused when saved and again when delivered to.
    allow_private_targets: bool = False
    # A failed delivery waits retry_base_seconds * 2**attempt (with jitter), at most
    # retry_cap_seconds; after max_attempts attempts (about a day by default) it fails
    # for good and its endpoint is marked failing.
    retry_base_seconds: Annotated[float, Field(gt=0)] = 30.0
    retry_cap_seconds: Annotated[float, Field(gt=0)] = 3 * 3600.0
    max_attempts: Annotated[int, Field(ge=1, le=100)] = 18
    # A delivery gets this long in all to be answered (and at most 5 s to connect).
    timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 10.0


class EscalationSettings(_Section):
    """``escalation``: admins hear of a ticket left without an answer from staff."""

    # A ticket of this priority, not resolved or closed, with no public staff reply
    # after_hours after it was opened, is escalated once: admins are alerted.
    priority: Literal["low", "medium", "high", "critical"] = "critical"
    after_hours: Annotated[int, Field(ge=1, le=8760)] = 4


class AuditSettings(_Section):
    """``audit``: the trail of administrative actions."""

    # Entries older than this many days are deleted by the hourly retention job.
    retention_days: Annotated[int, Field(ge=1, le=36_500)] = 365


class RateLimitSettings(_Section):
    """``rate_limits``: how much one person may post, for the operator to fit their users.

    The limits on signing up, signing in and asking for mailed links are fixed
    (``ticketdesk.rate_limits``): they guard accounts, not workloads.
    """

    # New tickets one account may open within any hour (an integration filing tickets
    # from monitoring may need more).
    tickets_per_hour: Annotated[int, Field(ge=1, le=100_000)] = 30
    # Comments (public replies and internal notes) one account may write within any hour.
    comments_per_hour: Annotated[int, Field(ge=1, le=100_000)] = 120


class TicketsSettings(_Section):
    """``tickets``: the seed's keys, and the attachment rules next to them."""

    enabled: bool = True
    max_attachment_size_mb: Annotated[int, Field(ge=1, le=10_240)] = 10
    allow_attachments: bool = True
    allowed_attachment_types: list[AttachmentMediaType] = Field(
        default_factory=lambda: list(get_args(AttachmentMediaType))
    )
    # How long an uploader may delete their own attachment; staff always may.
    attachment_delete_window_minutes: Annotated[int, Field(ge=0, le=10_080)] = 15
    # What the files one person uploaded may add up to (0: no limit).
    attachment_quota_mb: Annotated[int, Field(ge=0, le=10_485_760)] = 1024
    # A submitter reopens a ticket (by a reply or its status) closed at most this many
    # days ago; after that (or always, with 0) they are asked to open a new ticket.
    reopen_window_days: Annotated[int, Field(ge=0, le=3650)] = 30
    # A ticket resolved this many days ago, with no public reply since, is closed by the
    # system (0: never).
    auto_close_days: Annotated[int, Field(ge=0, le=3650)] = 7
    # A public reply from staff sets an open or in-progress ticket waiting for its
    # submitter (off: agents set the status themselves).
    reply_moves_to_waiting: bool = False
    # A merge may be undone this many minutes after it was made (0: never).
    merge_undo_minutes: Annotated[int, Field(ge=0, le=10_080)] = 10
    github: GitHubSettings = GitHubSettings()

    @field_validator("allowed_attachment_types", mode="before")
    @classmethod
    def _type_list(cls, value: Any) -> Any:
        """Accept ``image/png,application/pdf`` from the environment."""
        return _comma_separated(value)


@dataclass(frozen=True)
class SmtpTarget:
    """Where outgoing mail is handed over, as ``smtp_url`` describes it."""

    host: str
    port: int
    username: str | None
    password: str | None
    # smtps://: TLS from the first byte; start_tls: upgrade a plain connection first.
    use_tls: bool
    start_tls: bool


def _smtp_target(url: str) -> SmtpTarget:
    """Read ``smtp://user:pass@host:port?starttls=true`` (or ``smtps://``); ``ValueError``
    names what is wrong."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError("must start with smtp:// or smtps://")
    if not parts.hostname:
        raise ValueError("must name a host, e.g. smtp://mail.example.com:587")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("has a port that is not a number from 1 to 65535") from None
    options = dict(parse_qsl(parts.query))
    unknown = sorted(set(options) - {"starttls"})
    if unknown:
        raise ValueError(f"has an unknown option {unknown[0]!r} (only starttls)")
    starttls = options.get("starttls", "false").lower()
    if starttls not in ("true", "false"):
        raise ValueError("starttls must be true or false")
    use_tls = parts.scheme == "smtps"
    if use_tls and starttls == "true":
        raise ValueError("smtps:// is TLS already: starttls=true only goes with smtp://")
    return SmtpTarget(
        host=parts.hostname,
        port=port or (465 if use_tls else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_tls=use_tls,
        start_tls=starttls == "true",
    )


@dataclass(frozen=True)
class ImapTarget:
    """The mailbox replies are read from, as ``imap_url`` describes it."""

    host: str
    port: int
    username: str
    password: str = field(repr=False)
    # imaps://: TLS from the first byte.
    use_tls: bool
    folder: str

    @property
    def where(self) -> str:
        """``user@host:port/folder``: names the mailbox without its password."""
        return f"{self.username}@{self.host}:{self.port}/{self.folder}"


def _imap_target(url: str) -> ImapTarget:
    """Read ``imaps://user:pass@host:993/INBOX`` (or ``imap://``); ``ValueError`` names
    what is wrong."""
    parts = urlsplit(url)
    if parts.scheme not in ("imap", "imaps"):
        raise ValueError("must start with imap:// or imaps://")
    if not parts.hostname:
        raise ValueError("must name a host, e.g. imaps://user:pass@mail.example.com/INBOX")
    if not parts.username or parts.password is None:
        raise ValueError("must name a user and a password, e.g. imaps://user:pass@host/INBOX")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("has a port that is not a number from 1 to 65535") from None
    if parts.query:
        raise ValueError("takes no options after ?")
    use_tls = parts.scheme == "imaps"
    return ImapTarget(
        host=parts.hostname,
        port=port or (993 if use_tls else 143),
        username=unquote(parts.username),
        password=unquote(parts.password),
        use_tls=use_tls,
        folder=unquote(parts.path.strip("/")) or "INBOX",
    )


class MailSettings(_Section):
    """``mail``: what ticketdesk does with mail it receives."""

    # A mail to the support address that replies to no ticket opens one for a known user.
    open_tickets_by_mail: bool = False


class S3Settings(_Section):
    """``s3``: S3-compatible object storage for attachments (unset → local disk)."""

    bucket: str | None = None
    endpoint: AnyHttpUrl | None = None
    region: str = "us-east-1"
    access_key_id: str | None = None
    secret_access_key: SecretStr | None = None
    allow_http: bool = False


def _interpolate(value: Any) -> Any:
    if isinstance(value, str):
        return _INTERPOLATION.sub(lambda m: os.environ.get(m[1], m[2] or ""), value)
    if isinstance(value, dict):
        return {k: _interpolate(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v) for v in value]
    return value


def _drop_empty(value: Any) -> Any:
    """Treat empty strings (an unset ``${VAR}``, ``FOO=``) as not given."""
    if isinstance(value, dict):
        return {k: _drop_empty(v) for k, v in value.items() if v != ""}
    return value


def _set_dotted(target: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[last] = value


def _read_file(path: Path | None) -> dict[str, Any]:
    """The YAML file's settings, interpolated; nothing when there is no file."""
    if path is None:
        return {}
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"config file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path}: not valid YAML: {exc}") from exc
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"config file {path}: the top level must be a mapping")
    result: dict[str, Any] = _drop_empty(_interpolate(loaded))
    return result


def _read_environment() -> dict[str, Any]:
    """The settings given as environment variables (``ENV_KEYS``), nested by key."""
    values: dict[str, Any] = {}
    for env, dotted in ENV_KEYS.items():
        raw = os.environ.get(env)
        if raw:
            _set_dotted(values, dotted, raw)
    return values


def _overlay(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``top``'s values over it, section by section."""
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _overlay(merged[key], value)
        else:
            merged[key] = value
    return merged


class Settings(BaseModel):
    """Everything ticketdesk reads at start-up; ``load_settings`` fills it in."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    database_url: str | None = None
    # Unset: rate limits count in each process, presence on tickets is kept in PostgreSQL.
    redis_url: SecretStr | None = None
    data_dir: Path = Path(".ticketdesk")
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8000
    # Server processes of ``ticketdesk serve``. Unset: one a core with ``database_url``,
    # one with the embedded database.
    workers: Annotated[int, Field(ge=1)] | None = None
    base_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:8000")
    secret_key: SecretStr | None = None
    signup_enabled: bool = True
    # The reverse proxies in front of ticketdesk (addresses or CIDR networks): only from
    # these are X-Forwarded-For and X-Forwarded-Proto believed. From anyone else they are
    # ignored, and the peer's own address is the client's.
    trusted_proxies: list[IpNetwork] = Field(default_factory=list)
    # Domains that are not on the public internet but where this team gets mail
    # (corp.local): addresses there are accepted for accounts, with their subdomains.
    internal_email_domains: list[DomainName] = Field(default_factory=list)
    log_level: Literal["debug", "info", "warning", "error", "critical"] = "info"
    # text: one human-readable line a record; json: one JSON object a line, one a request.
    log_format: Literal["text", "json"] = "text"
    # Unset: there is no /metrics (a 404). Set: Prometheus scrapes /metrics with it as a
    # bearer token.
    metrics_token: SecretStr | None = None
    # Unset: no mail is sent or queued, and nothing promises it.
    smtp_url: SecretStr | None = None
    mail_from: MailAddress = "ticketdesk@localhost"
    # Unset: no mailbox is read; replies can still be piped in (ticketdesk mail ingest).
    imap_url: SecretStr | None = None
    mail: MailSettings = MailSettings()
    accounts: AccountsSettings = AccountsSettings()
    s3: S3Settings = S3Settings()
    tickets: TicketsSettings = TicketsSettings()
    jobs: JobsSettings = JobsSettings()
    notifications: NotificationsSettings = NotificationsSettings()
    webhooks: WebhooksSettings = WebhooksSettings()
    escalation: EscalationSettings = EscalationSettings()
    rate_limits: RateLimitSettings = RateLimitSettings()
    audit: AuditSettings = AuditSettings()

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            conninfo_to_dict(value)
        except psycopg.ProgrammingError:
            raise ValueError("must be a postgresql:// URL or a libpq connection string") from None
        if "://" in value and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a postgresql:// URL")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_only(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        parts = urlsplit(value.get_secret_value())
        query = dict(parse_qsl(parts.query))
        if parts.scheme in ("redis", "rediss"):
            if not parts.hostname:
                raise ValueError("must name a host, e.g. redis://redis.internal:6379/0")
            try:
                port = parts.port
            except ValueError:
                port = 0
            if port == 0:
                raise ValueError("the port must be a number from 1 to 65535")
            database = parts.path.strip("/") or query.get("db", "0")
        elif parts.scheme == "unix":
            if not parts.path:
                raise ValueError("must name the socket, e.g. unix:///run/redis/redis.sock?db=0")
            database = query.get("db", "0")
        else:
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        if not database.isdigit():
            raise ValueError("the database must be a number, e.g. redis://redis.internal:6379/0")
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxy_list(cls, value: Any) -> Any:
        """Accept ``10.0.0.5,192.168.0.0/16`` from the environment."""
        return _comma_separated(value)

    @field_validator("internal_email_domains", mode="before")
    @classmethod
    def _domain_list(cls, value: Any) -> Any:
        """Accept ``corp.local,lab.internal`` from the environment."""
        return _comma_separated(value)

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            _smtp_target(value.get_secret_value())
        return value

    @field_validator("imap_url")
    @classmethod
    def _imap_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            _imap_target(value.get_secret_value())
        return value

    @field_validator("secret_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters")
        return value

    @field_validator("metrics_token")
    @classmethod
    def _hard_to_guess(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters")
        return value

    @property
    def public_url(self) -> str:
        """The base URL without a trailing slash, for building links."""
        return str(self.base_url).rstrip("/")

    @property
    def smtp(self) -> SmtpTarget | None:
        """Where mail goes, or ``None`` when mail is switched off."""
        if self.smtp_url is None:
            return None
        return _smtp_target(self.smtp_url.get_secret_value())

    @property
    def imap(self) -> ImapTarget | None:
        """The mailbox replies arrive in, or ``None`` when none is read."""
        if self.imap_url is None:
            return None
        return _imap_target(self.imap_url.get_secret_value())

    @property
    def mail_enabled(self) -> bool:
        """Whether ticketdesk sends mail at all."""
        return self.smtp_url is not None

    @property
    def max_attachment_bytes(self) -> int:
        """The per-file upload limit in bytes."""
        return self.tickets.max_attachment_size_mb * 1024 * 1024

    @property
    def attachment_quota_bytes(self) -> int | None:
        """What one person's files may add up to in bytes, or ``None`` for no limit."""
        return self.tickets.attachment_quota_mb * 1024 * 1024 or None

    @property
    def reopen_window(self) -> timedelta:
        """How long after closing a submitter may still reopen a ticket."""
        return timedelta(days=self.tickets.reopen_window_days)

    @property
    def merge_undo_window(self) -> timedelta:
        """How long after a merge it may still be undone."""
        return timedelta(minutes=self.tickets.merge_undo_minutes)

    def secret(self) -> bytes:
        """The key that signs sessions, read or generated into the data directory."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value().encode()
        path = self.data_dir / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            # Written whole under another name, then renamed: a process starting at the
            # same moment reads either no file or the complete key.
            fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_urlsafe(48))
            os.replace(temporary, path)
        key = path.read_text().strip()
        if len(key) < 32:
            raise ConfigError(f"{path} holds a key shorter than 32 characters")
        return key.encode()


def _describe(loc: tuple[int | str, ...]) -> str:
    dotted = ".".join(str(part) for part in loc)
    # An item of a list setting is named by its position; its variable is the list's.
    env = ENV_BY_KEY.get(".".join(str(part) for part in loc if isinstance(part, str)))
    return f"{dotted} ({env})" if env else dotted


def _problem(error: ErrorDetails, config_file: Path | None) -> str:
    where = _describe(error["loc"])
    if error["type"] == "extra_forbidden":
        # Only the file can name an unknown key: the environment is read by ENV_KEYS.
        return f"{where}: unknown setting" + (f" in {config_file}" if config_file else "")
    return f"{where}: {error['msg']}"


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Read and validate settings; raise ``ConfigError`` naming the first bad key.

    The YAML file is ``config_file``, else the one ``TICKETDESK_CONFIG`` names, else none;
    the environment wins over the file, and ``overrides`` win over both.
    """
    if config_file is None and os.environ.get("TICKETDESK_CONFIG"):
        config_file = Path(os.environ["TICKETDESK_CONFIG"])
    values = _overlay(_overlay(_read_file(config_file), _read_environment()), overrides)
    try:
        settings = Settings.model_validate(values)
    except ValidationError as exc:
        lines = [_problem(error, config_file) for error in exc.errors()]
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines)) from None
    github = settings.tickets.github
    if github.enabled and (github.repo is None or github.token is None):
        missing = "tickets.github.repo" if github.repo is None else "tickets.github.token"
        raise ConfigError(
            f"invalid configuration:\n  {_describe(tuple(missing.split('.')))}: "
            "required when tickets.github.enabled is true"
        )
    if settings.accounts.verify_email and settings.smtp_url is None:
        raise ConfigError(
            f"invalid configuration:\n  {_describe(('accounts', 'verify_email'))}: "
            f"needs {_describe(('smtp_url',))} to mail the link"
        )
    return settings


# A coroutine, as every dependency that only reads the app's state: FastAPI runs a plain
# function in its thread pool, a hand-off between threads for each request.
async def app_settings(request: Request) -> Settings:
    """The running app's settings, for endpoints: ``settings: AppSettings``."""
    settings: Settings = request.app.state.settings
    return settings


AppSettings = Annotated[Settings, Depends(app_settings)]
