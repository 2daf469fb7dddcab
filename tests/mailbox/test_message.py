"""Reading a mail: its new text, its files, and whether a machine sent it."""

from email.message import EmailMessage

import pytest

from tests.mailbox.mailroom import mail
from ticketdesk.mailbox.message import envelope, read_mail

VALUES = {
    "sender": "alice@example.com",
    "reply_to": "support+t7-0123456789abcdef@example.com",
    "to": "support@example.com",
    "thread": "<ticket-00000000-0000-0000-0000-000000000007@example.com>",
    "ticket_id": "00000000-0000-0000-0000-000000000007",
    "number": "7",
}


def _plain(text: str, **headers: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Alice <alice@example.com>"
    message["To"] = "support@example.com"
    message["Subject"] = "Re: [#7] Export"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    return message.as_bytes()


class TestNewText:
    def test_outlook_html_becomes_markdown_without_quote_or_signature(self) -> None:
        read = read_mail(mail("outlook-html-only.eml", **VALUES))

        assert read.text == (
            "Hi Aaron,\n\nThe export works again after the update. **Thank you** for the quick "
            "help!"
        )

    def test_reply_written_above_a_german_quote(self) -> None:
        raw = _plain(
            "Danke, jetzt geht es.\n\nMit freundlichen Grüßen\nAlice\n\n"
            "Am 01.12.26 um 09:15 schrieb Ticketdesk:\n> Bitte den Cache leeren.\n"
        )

        assert read_mail(raw).text == "Danke, jetzt geht es."

    def test_nothing_but_a_quote(self) -> None:
        raw = _plain("On Tue, 1 Dec 2026 at 09:15, Ticketdesk wrote:\n> Hello\n")

        assert read_mail(raw).text == ""

    def test_keys_and_sender(self) -> None:
        raw = mail("gmail-reply.eml", **VALUES)

        head = envelope(raw)

        assert head.key.startswith("message-id:")
        assert len(head.key) == len("message-id:") + 64
        assert head.message_id == (
            "<CAK7x=Qm2VbT5o0XoYw1n3b7m8f+9xYh0s2JpZgJQe0k1Wq4c2A@mail.gmail.com>"
        )
        assert head.sender == "alice@example.com"
        assert head.subject == "Re: [#7] The export button does nothing"

    def test_no_message_id_keys_by_content(self) -> None:
        key = envelope(_plain("Hello")).key

        assert key.startswith("raw:")
        assert envelope(_plain("Hello")).key == key
        assert envelope(_plain("Hello!")).key != key

    def test_control_characters_left_out(self) -> None:
        raw = _plain("Hello", Message_ID="<a\x00b@example.com>")
        raw = raw.replace(b"Subject: Re: [#7] Export", b"Subject: =?utf-8?q?Re=3A_=00Export=1B?=")

        head = envelope(raw)

        assert head.subject == "Re:  Export"
        assert head.message_id == "<a b@example.com>"


class TestAutomatic:
    @pytest.mark.parametrize(
        ("headers", "reason"),
        [
            ({"Auto_Submitted": "auto-replied"}, "Auto-Submitted: auto-replied"),
            ({"Precedence": "bulk"}, "Precedence: bulk"),
            ({"X_Autoreply": "yes"}, "X-Autoreply"),
            ({"Return_Path": "<>"}, "empty Return-Path"),
        ],
    )
    def test_signs(self, headers: dict[str, str], reason: str) -> None:
        automatic = read_mail(_plain("I am away.", **headers)).automatic

        assert automatic is not None
        assert reason in automatic

    def test_a_person(self) -> None:
        raw = _plain("Thanks!", Auto_Submitted="no", Precedence="first-class")

        assert read_mail(raw).automatic is None

    def test_delivery_report(self) -> None:
        automatic = read_mail(mail("bounce.eml", **VALUES)).automatic

        assert automatic is not None

    def test_read_receipt(self) -> None:
        message = EmailMessage()
        message["From"] = "Alice <alice@example.com>"
        message["To"] = "support@example.com"
        message.set_content("Your message was read.")
        message.add_attachment(
            "Final-Recipient: rfc822; alice@example.com\n"
            "Disposition: manual-action/MDN-sent-manually; displayed\n",
            subtype="plain",
        )
        boundary = message.get_boundary()
        message.replace_header(
            "Content-Type",
            f'multipart/report; report-type=disposition-notification; boundary="{boundary}"',
        )

        assert read_mail(message.as_bytes()).automatic == (
            "a delivery report (disposition-notification)"
        )
