"""Mail plumbing against a real SMTP server: settings, delivery, refusals, addresses."""

from email.message import EmailMessage
from uuid import uuid4

import pytest

from tests.mailservers import SmtpServer
from ticketdesk.config import ConfigError, SmtpTarget, load_settings
from ticketdesk.mail import addresses, smtp

SECRET = b"a-secret-key-long-enough-for-hmac-0123456789"
FROM = "support@example.com"
HOST = "mail.example.com"
DOMAIN = "example.com"


def _message(to: str = "ada@example.com") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Support <support@example.com>"
    message["To"] = to
    message["Subject"] = "[#7] Printer on fire"
    message.set_content("It is on fire.")
    return message


def _target(server: SmtpServer) -> SmtpTarget:
    target = load_settings(smtp_url=server.url).smtp
    assert target is not None
    return target


class TestSmtpUrl:
    def test_unset_means_no_mail(self) -> None:
        settings = load_settings()
        assert settings.smtp is None
        assert not settings.mail_enabled

    @pytest.mark.parametrize(
        ("url", "expected"),
        [
            (
                "smtp://mail.example.com",
                SmtpTarget(HOST, 25, None, None, False, False),
            ),
            (
                "smtp://ada:p%40ss@mail.example.com:587?starttls=true",
                SmtpTarget(HOST, 587, "ada", "p@ss", False, True),
            ),
            (
                "smtps://mail.example.com",
                SmtpTarget(HOST, 465, None, None, True, False),
            ),
        ],
    )
    def test_valid(self, url: str, expected: SmtpTarget) -> None:
        settings = load_settings(smtp_url=url)
        assert settings.smtp == expected
        assert settings.mail_enabled

    @pytest.mark.parametrize(
        ("url", "problem"),
        [
            ("http://mail.example.com", "must start with smtp:// or smtps://"),
            ("smtp://", "must name a host"),
            ("smtp://mail.example.com:99999", "port"),
            ("smtp://mail.example.com?tls=1", "unknown option 'tls'"),
            ("smtp://mail.example.com?starttls=maybe", "starttls must be true or false"),
            ("smtps://mail.example.com?starttls=true", "TLS already"),
        ],
    )
    def test_invalid_names_the_key_not_the_password(self, url: str, problem: str) -> None:
        with pytest.raises(ConfigError) as raised:
            load_settings(smtp_url=url.replace("://", "://ada:hunter22@", 1))
        message = str(raised.value)
        assert "smtp_url (TICKETDESK_SMTP_URL)" in message
        assert problem in message
        assert "hunter22" not in message

    def test_mail_from(self) -> None:
        assert load_settings().mail_from == "ticketdesk@localhost"
        settings = load_settings(mail_from="Help Desk <Help@Example.com>")
        assert settings.mail_from == "Help Desk <Help@example.com>"
        with pytest.raises(ConfigError, match=r"mail_from \(TICKETDESK_MAIL_FROM\)"):
            load_settings(mail_from="help+desk@example.com")


class TestSend:
    async def test_delivered(self, smtp_server: SmtpServer) -> None:
        await smtp.send(_target(smtp_server), _message())
        [received] = smtp_server.received
        assert received.recipients == ["ada@example.com"]
        assert received.message["Subject"] == "[#7] Printer on fire"
        assert received.message.get_content().strip() == "It is on fire."

    async def test_signs_in(self) -> None:
        server = SmtpServer(username="desk", password="s3cret")
        server.start()
        try:
            await smtp.send(_target(server), _message())
            assert len(server.messages) == 1
        finally:
            server.stop()

    async def test_permanent_refusal(self, smtp_server: SmtpServer) -> None:
        smtp_server.refuse(550)
        with pytest.raises(smtp.MailRefused, match="550"):
            await smtp.send(_target(smtp_server), _message())

    async def test_temporary_refusal(self, smtp_server: SmtpServer) -> None:
        smtp_server.refuse(451)
        with pytest.raises(smtp.MailUnavailable, match="451"):
            await smtp.send(_target(smtp_server), _message())

    async def test_server_down_then_back(self, smtp_server: SmtpServer) -> None:
        smtp_server.stop()
        with pytest.raises(smtp.MailUnavailable):
            await smtp.send(_target(smtp_server), _message())
        smtp_server.start()
        await smtp.send(_target(smtp_server), _message())
        assert len(smtp_server.messages) == 1

    async def test_wrong_password_is_retried_not_dropped(self) -> None:
        server = SmtpServer(username="desk", password="s3cret")
        server.start()
        try:
            target = _target(server)
            wrong = SmtpTarget(target.host, target.port, "desk", "wrong", False, False)
            with pytest.raises(smtp.MailUnavailable, match="535"):
                await smtp.send(wrong, _message())
        finally:
            server.stop()


class TestAddresses:
    def test_reply_address_round_trip(self) -> None:
        address = addresses.reply_address("Support <support@example.com>", SECRET, 1234)
        assert address.startswith("support+t1234-")
        assert address.endswith("@example.com")
        assert addresses.ticket_in_reply_address(address, FROM, SECRET) == 1234
        assert addresses.ticket_in_reply_address(f"Ada <{address.upper()}>", FROM, SECRET) == 1234

    def test_forged_reply_address(self) -> None:
        address = addresses.reply_address(FROM, SECRET, 1234)
        signature = address.split("-", 1)[1].split("@")[0]
        forged = f"support+t1235-{signature}@example.com"
        assert addresses.ticket_in_reply_address(forged, FROM, SECRET) is None
        other_key = addresses.reply_address("support@example.com", b"another-key" * 4, 1234)
        assert addresses.ticket_in_reply_address(other_key, FROM, SECRET) is None
        assert addresses.ticket_in_reply_address("support@example.com", FROM, SECRET) is None

    def test_recipients(self) -> None:
        reply = addresses.reply_address(FROM, SECRET, 9)
        found = addresses.tickets_in_recipients(
            [f"Desk <{reply}>, bob@example.com", reply], FROM, SECRET
        )
        assert found == [9]

    def test_thread(self) -> None:
        ticket_id = uuid4()
        root = addresses.thread_id(ticket_id, "example.com")
        one_mail = addresses.message_id("example.com", ticket_id)
        assert one_mail != addresses.message_id("example.com", ticket_id)
        for header in (root, one_mail, f"<a@b.c> {one_mail}"):
            assert addresses.ticket_in_thread(header, "example.com") == ticket_id
        assert addresses.ticket_in_thread(root, "elsewhere.example.org") is None
        assert addresses.ticket_in_thread(addresses.message_id(DOMAIN), DOMAIN) is None
