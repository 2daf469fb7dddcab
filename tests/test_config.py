"""Settings: the seed's YAML and environment variables, and errors that name the key."""

import os
from pathlib import Path

import pytest

from ticketdesk.config import ENV_KEYS, ConfigError, Settings, load_settings

# The seed's own example, verbatim.
SEED_YAML = """\
tickets:
  enabled: true
  max_attachment_size_mb: 10
  allow_attachments: true

  github:
    enabled: false
    repo: owner/repo
    token: ${TICKETS_GITHUB_TOKEN}
    auto_create_issues: false
"""


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No setting leaks in from the machine running the tests, or out to other tests."""
    for name in [*ENV_KEYS, "TICKETDESK_CONFIG"]:
        monkeypatch.delenv(name, raising=False)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ticketdesk.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _load(path: Path | None = None, **overrides: object) -> Settings:
    return load_settings(path, **overrides)


class TestDefaults:
    def test_without_any_configuration(self) -> None:
        settings = _load()

        assert settings.database_url is None
        assert settings.host == "127.0.0.1"
        assert settings.port == 8000
        assert settings.public_url == "http://127.0.0.1:8000"
        assert settings.data_dir == Path(".ticketdesk")
        assert settings.signup_enabled is True
        assert settings.tickets.enabled is True
        assert settings.tickets.max_attachment_size_mb == 10
        assert settings.max_attachment_bytes == 10 * 1024 * 1024
        assert settings.tickets.allow_attachments is True
        assert settings.tickets.github.enabled is False


class TestYamlFile:
    def test_the_seeds_file(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("TICKETS_GITHUB_TOKEN", "ghp_from_the_environment")

        settings = _load(_write(tmp_path, SEED_YAML))

        github = settings.tickets.github
        assert github.repo == "owner/repo"
        assert github.owner_and_name == ("owner", "repo")
        assert github.token is not None
        assert github.token.get_secret_value() == "ghp_from_the_environment"
        assert github.auto_create_issues is False

    def test_by_environment_variable(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        path = _write(tmp_path, "tickets:\n  max_attachment_size_mb: 25\nport: 9000\n")
        monkeypatch.setenv("TICKETDESK_CONFIG", str(path))

        settings = _load()

        assert settings.tickets.max_attachment_size_mb == 25
        assert settings.port == 9000

    def test_the_given_file_wins_over_the_variable(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        named = _write(tmp_path, "port: 9000\n")
        given = tmp_path / "given.yaml"
        given.write_text("port: 9001\n", encoding="utf-8")
        monkeypatch.setenv("TICKETDESK_CONFIG", str(named))

        assert _load(given).port == 9001

    def test_loading_leaves_the_environment_alone(self, tmp_path: Path) -> None:
        before = dict(os.environ)

        _load(_write(tmp_path, "port: 9000\n"))

        assert dict(os.environ) == before

    def test_interpolation_with_a_default(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("DESK_HOST", "desk.example.com")
        path = _write(
            tmp_path,
            "base_url: https://${DESK_HOST}/\nhost: ${DESK_BIND:-0.0.0.0}\n",
        )

        settings = _load(path)

        assert settings.public_url == "https://desk.example.com"
        assert settings.host == "0.0.0.0"  # noqa: S104 (a value under test)

    def test_unset_variable_leaves_the_default(self, tmp_path: Path) -> None:
        settings = _load(_write(tmp_path, "tickets:\n  github:\n    token: ${NOT_SET_ANYWHERE}\n"))

        assert settings.tickets.github.token is None

    def test_every_setting_has_a_key(self, tmp_path: Path) -> None:
        path = _write(
            tmp_path,
            """\
database_url: postgresql://desk@db.internal/desk
data_dir: /var/lib/ticketdesk
host: 0.0.0.0
port: 8080
base_url: https://desk.example.com
secret_key: a-secret-key-that-is-long-enough-for-signing
signup_enabled: false
s3:
  bucket: tickets
  endpoint: https://s3.example.com
tickets:
  github:
    webhook_secret: whsec
    api_url: https://github.example.com/api/v3
""",
        )

        settings = _load(path)

        assert settings.database_url == "postgresql://desk@db.internal/desk"
        assert settings.data_dir == Path("/var/lib/ticketdesk")
        assert settings.port == 8080
        assert settings.signup_enabled is False
        assert settings.s3.bucket == "tickets"
        assert str(settings.tickets.github.api_url) == "https://github.example.com/api/v3"

    def test_empty_file(self, tmp_path: Path) -> None:
        assert _load(_write(tmp_path, "")).port == 8000

    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError, match=r"missing\.yaml"):
            _load(tmp_path / "missing.yaml")

    def test_not_yaml(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError, match="not valid YAML"):
            _load(_write(tmp_path, "tickets: [unclosed\n"))

    def test_not_a_mapping(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError, match="mapping"):
            _load(_write(tmp_path, "- just\n- a list\n"))

    def test_unknown_key(self, tmp_path: Path) -> None:
        path = _write(tmp_path, "tickets:\n  max_attachment_size_gb: 1\n")

        with pytest.raises(ConfigError) as raised:
            _load(path)

        assert str(raised.value) == (
            f"invalid configuration:\n  tickets.max_attachment_size_gb: unknown setting in {path}"
        )

    def test_redis_and_rate_limits(self, tmp_path: Path) -> None:
        path = _write(
            tmp_path, "redis_url: redis://cache:6379/0\nrate_limits:\n  tickets_per_hour: 90\n"
        )

        settings = _load(path)

        assert settings.redis_url is not None
        assert settings.redis_url.get_secret_value() == "redis://cache:6379/0"
        assert settings.rate_limits.tickets_per_hour == 90

    def test_mail_settings(self, tmp_path: Path) -> None:
        path = _write(tmp_path, "smtp_url: smtp://mailer:25\nmail_from: Help <help@example.com>\n")

        settings = _load(path)

        assert settings.smtp is not None
        assert (settings.smtp.host, settings.smtp.port) == ("mailer", 25)
        assert settings.mail_from == "Help <help@example.com>"


class TestEnvironment:
    def test_the_seeds_variables(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("TICKETS_GITHUB_ENABLED", "true")
        monkeypatch.setenv("TICKETS_GITHUB_REPO", "acme/widgets")
        monkeypatch.setenv("TICKETS_GITHUB_TOKEN", "ghp_abc")
        monkeypatch.setenv("TICKETS_MAX_ATTACHMENT_SIZE_MB", "3")

        settings = _load()

        assert settings.tickets.github.enabled is True
        assert settings.tickets.github.repo == "acme/widgets"
        assert settings.tickets.max_attachment_size_mb == 3
        assert settings.max_attachment_bytes == 3 * 1024 * 1024

    def test_every_variable_maps_to_its_key(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("TICKETS_ENABLED", "false")
        monkeypatch.setenv("TICKETS_ALLOW_ATTACHMENTS", "false")
        monkeypatch.setenv("TICKETS_GITHUB_AUTO_CREATE_ISSUES", "true")
        monkeypatch.setenv("TICKETDESK_PORT", "8123")
        monkeypatch.setenv("TICKETDESK_SIGNUP_ENABLED", "false")
        monkeypatch.setenv("TICKETDESK_S3_ALLOW_HTTP", "true")
        monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/d")

        settings = _load()

        assert settings.tickets.enabled is False
        assert settings.tickets.allow_attachments is False
        assert settings.tickets.github.auto_create_issues is True
        assert settings.port == 8123
        assert settings.signup_enabled is False
        assert settings.s3.allow_http is True
        assert settings.database_url == "postgresql://u@h/d"

    def test_the_timed_rules(self, monkeypatch: pytest.MonkeyPatch) -> None:
        defaults = _load()
        monkeypatch.setenv("TICKETDESK_ESCALATION_PRIORITY", "high")
        monkeypatch.setenv("TICKETDESK_ESCALATION_AFTER_HOURS", "2")
        monkeypatch.setenv("TICKETS_AUTO_CLOSE_DAYS", "0")

        settings = _load()

        assert (defaults.escalation.priority, defaults.escalation.after_hours) == ("critical", 4)
        assert defaults.tickets.auto_close_days == 7
        assert (settings.escalation.priority, settings.escalation.after_hours) == ("high", 2)
        assert settings.tickets.auto_close_days == 0

    def test_redis_and_the_rate_limits(self, monkeypatch: pytest.MonkeyPatch) -> None:
        defaults = _load()
        monkeypatch.setenv("REDIS_URL", "redis://:redis-pass-77@redis.internal:6380/2")
        monkeypatch.setenv("TICKETDESK_RATE_LIMIT_TICKETS_PER_HOUR", "500")
        monkeypatch.setenv("TICKETDESK_RATE_LIMIT_COMMENTS_PER_HOUR", "1000")

        settings = _load()

        assert defaults.redis_url is None
        assert (defaults.rate_limits.tickets_per_hour, defaults.rate_limits.comments_per_hour) == (
            30,
            120,
        )
        assert settings.redis_url is not None
        assert (
            settings.redis_url.get_secret_value() == "redis://:redis-pass-77@redis.internal:6380/2"
        )
        assert "redis-pass-77" not in repr(settings)
        assert (settings.rate_limits.tickets_per_hour, settings.rate_limits.comments_per_hour) == (
            500,
            1000,
        )

    def test_internal_email_domains_as_a_list(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("TICKETDESK_INTERNAL_EMAIL_DOMAINS", "Corp.Local, lab.internal")

        assert _load().internal_email_domains == ["corp.local", "lab.internal"]

    def test_trusted_proxies_as_a_list(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("TICKETDESK_TRUSTED_PROXIES", "10.0.0.5, 192.168.0.0/16,fd00::/8")

        assert _load().trusted_proxies == ["10.0.0.5", "192.168.0.0/16", "fd00::/8"]

    def test_no_trusted_proxies_by_default(self) -> None:
        assert _load().trusted_proxies == []

    def test_overrides_the_file(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        path = _write(tmp_path, SEED_YAML + "port: 9000\n")
        monkeypatch.setenv("TICKETS_MAX_ATTACHMENT_SIZE_MB", "42")
        monkeypatch.setenv("TICKETS_GITHUB_REPO", "acme/widgets")

        settings = _load(path)

        assert settings.tickets.max_attachment_size_mb == 42
        assert settings.tickets.github.repo == "acme/widgets"
        assert settings.tickets.allow_attachments is True  # from the file
        assert settings.port == 9000  # from the file

    def test_empty_variable_is_not_set(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("TICKETDESK_PORT", "")

        assert _load().port == 8000

    def test_arguments_override_the_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("TICKETDESK_PORT", "8123")

        assert _load(port=9999).port == 9999


class TestErrorsNameTheKey:
    @pytest.mark.parametrize(
        ("variable", "value", "key"),
        [
            ("TICKETS_MAX_ATTACHMENT_SIZE_MB", "abc", "tickets.max_attachment_size_mb"),
            ("TICKETS_MAX_ATTACHMENT_SIZE_MB", "0", "tickets.max_attachment_size_mb"),
            ("TICKETS_GITHUB_ENABLED", "maybe", "tickets.github.enabled"),
            ("TICKETS_GITHUB_REPO", "nope", "tickets.github.repo"),
            ("TICKETDESK_PORT", "70000", "port"),
            ("TICKETDESK_WORKERS", "0", "workers"),
            ("TICKETDESK_ESCALATION_PRIORITY", "urgent", "escalation.priority"),
            ("TICKETDESK_ESCALATION_AFTER_HOURS", "0", "escalation.after_hours"),
            ("TICKETS_AUTO_CLOSE_DAYS", "-1", "tickets.auto_close_days"),
            ("TICKETDESK_BASE_URL", "not a url", "base_url"),
            ("TICKETDESK_SECRET_KEY", "too-short", "secret_key"),
            ("TICKETDESK_METRICS_TOKEN", "too-short", "metrics_token"),
            ("TICKETDESK_LOG_FORMAT", "xml", "log_format"),
            ("DATABASE_URL", "mysql://root@db/desk", "database_url"),
            ("REDIS_URL", "memcached://cache:11211", "redis_url"),
            ("REDIS_URL", "redis://:secret@/0", "redis_url"),
            ("REDIS_URL", "redis://cache:port/0", "redis_url"),
            ("REDIS_URL", "redis://cache:99999/0", "redis_url"),
            ("REDIS_URL", "redis://cache:6379/first", "redis_url"),
            ("REDIS_URL", "unix:///run/redis/redis.sock?db=x", "redis_url"),
            ("REDIS_URL", "unix://", "redis_url"),
            ("TICKETDESK_RATE_LIMIT_TICKETS_PER_HOUR", "0", "rate_limits.tickets_per_hour"),
            ("TICKETDESK_RATE_LIMIT_COMMENTS_PER_HOUR", "many", "rate_limits.comments_per_hour"),
            (
                "TICKETDESK_INTERNAL_EMAIL_DOMAINS",
                "corp.local,not a domain",
                "internal_email_domains",
            ),
            ("TICKETDESK_TRUSTED_PROXIES", "10.0.0.1,proxy.internal", "trusted_proxies"),
            ("TICKETDESK_TRUSTED_PROXIES", "10.0.0.0/33", "trusted_proxies"),
            ("TICKETDESK_TRUSTED_PROXIES", "10.0.0.5/8", "trusted_proxies"),
            ("TICKETDESK_TRUSTED_PROXIES", "fd00::1/8", "trusted_proxies"),
        ],
    )
    def test_bad_environment_value(
        self, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, key: str
    ) -> None:
        monkeypatch.setenv(variable, value)

        with pytest.raises(ConfigError) as raised:
            _load()

        assert key in str(raised.value)
        assert variable in str(raised.value)

    def test_bad_file_value(self, tmp_path: Path) -> None:
        path = _write(tmp_path, 'tickets:\n  github:\n    repo: "nope"\n')

        with pytest.raises(ConfigError, match=r"tickets\.github\.repo"):
            _load(path)

    def test_github_enabled_without_a_token(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("TICKETS_GITHUB_ENABLED", "true")
        monkeypatch.setenv("TICKETS_GITHUB_REPO", "acme/widgets")

        with pytest.raises(ConfigError, match=r"tickets\.github\.token"):
            _load()

    def test_github_enabled_without_a_repo(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("TICKETS_GITHUB_ENABLED", "true")
        monkeypatch.setenv("TICKETS_GITHUB_TOKEN", "ghp_abc")

        with pytest.raises(ConfigError, match=r"tickets\.github\.repo"):
            _load()

    def test_the_seeds_file_enabled_without_its_variable(self, tmp_path: Path) -> None:
        path = _write(tmp_path, SEED_YAML.replace("enabled: false", "enabled: true"))

        with pytest.raises(ConfigError, match=r"tickets\.github\.token"):
            _load(path)

    def test_a_rejected_secret_is_not_echoed(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("TICKETDESK_SECRET_KEY", "hunter2-but-short")

        with pytest.raises(ConfigError) as raised:
            _load()

        assert "secret_key" in str(raised.value)
        assert "hunter2" not in str(raised.value)


class TestSecretKey:
    def test_generated_once_into_the_data_dir(self, tmp_path: Path) -> None:
        settings = _load(data_dir=tmp_path / "data")

        first = settings.secret()
        second = _load(data_dir=tmp_path / "data").secret()

        assert first == second
        assert len(first) >= 32
        assert (tmp_path / "data" / "secret_key").stat().st_mode & 0o077 == 0

    def test_configured(self, tmp_path: Path) -> None:
        key = "k" * 40

        assert _load(secret_key=key, data_dir=tmp_path).secret() == key.encode()
        assert not (tmp_path / "secret_key").exists()
