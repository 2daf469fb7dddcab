"""``imap_url`` and ``mail.open_tickets_by_mail``: read, checked, never showing the password."""

import pytest

from ticketdesk.config import ConfigError, ImapTarget, load_settings

HOST = "mail.example.com"


class TestImapUrl:
    def test_unset_means_no_mailbox(self) -> None:
        settings = load_settings()
        assert settings.imap is None
        assert settings.mail.open_tickets_by_mail is False

    @pytest.mark.parametrize(
        ("url", "expected"),
        [
            (
                "imaps://support:s3cret@mail.example.com/INBOX",
                ImapTarget(HOST, 993, "support", "s3cret", True, "INBOX"),
            ),
            (
                "imap://support%40example.com:p%40ss@mail.example.com:1143/Tickets%2FReplies",
                ImapTarget(HOST, 1143, "support@example.com", "p@ss", False, "Tickets/Replies"),
            ),
            (
                "imap://support:s3cret@mail.example.com",
                ImapTarget(HOST, 143, "support", "s3cret", False, "INBOX"),
            ),
        ],
    )
    def test_valid(self, url: str, expected: ImapTarget) -> None:
        assert load_settings(imap_url=url).imap == expected

    @pytest.mark.parametrize(
        ("url", "problem"),
        [
            ("pop3://ada:hunter22@mail.example.com", "must start with imap:// or imaps://"),
            ("imaps://ada:hunter22@", "must name a host"),
            ("imaps://mail.example.com/INBOX", "must name a user and a password"),
            ("imaps://ada:hunter22@mail.example.com:99999", "port"),
            ("imaps://ada:hunter22@mail.example.com?idle=no", "takes no options"),
        ],
    )
    def test_invalid_names_the_key_not_the_password(self, url: str, problem: str) -> None:
        with pytest.raises(ConfigError) as raised:
            load_settings(imap_url=url)
        message = str(raised.value)
        assert "imap_url (TICKETDESK_IMAP_URL)" in message
        assert problem in message
        assert "hunter22" not in message

    def test_password_never_in_its_text(self) -> None:
        target = load_settings(imap_url="imaps://ada:hunter22@mail.example.com/INBOX").imap
        assert target is not None
        assert "hunter22" not in repr(target)
        assert target.where == "ada@mail.example.com:993/INBOX"


class TestOpenTicketsByMail:
    def test_from_the_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("TICKETDESK_MAIL_OPEN_TICKETS", "true")
        assert load_settings().mail.open_tickets_by_mail is True

    def test_invalid(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("TICKETDESK_MAIL_OPEN_TICKETS", "sometimes")
        with pytest.raises(ConfigError, match=r"mail.open_tickets_by_mail"):
            load_settings()
