"""Reading a mail that arrived: who sent it, where it points, its new text and its files.

The new text is what the sender wrote above (or without) the quoted history, with the
signature left off; ``mail-parser-reply`` tells those apart, for the phrasings of the
common mail clients in many languages. A mail with only an HTML body is turned into
Markdown first, the format comments are written in.
"""

import hashlib
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.utils import getaddresses

from mailparser_reply import EmailReplyParser
from markdownify import markdownify

# Headers that carry the addresses a mail was delivered to: the reply address may be
# in any of them (Delivered-To when it came as a Bcc or through an alias).
RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To")
# The client phrasings ("On … wrote:", "Best regards") recognised. Not every language the
# library knows: some of their signature patterns cut ordinary text (Swedish takes any
# line starting with "/…" for a signature, Danish any line starting with "Tak").
_REPLY_PARSER = EmailReplyParser(languages=["en", "de", "fr", "es", "it", "nl"])
# Senders that only ever send reports: bounces and the like.
_REPORTING_SENDERS = ("mailer-daemon@", "postmaster@")


@dataclass(frozen=True)
class MailFile:
    """A file attached to a mail."""

    filename: str | None
    declared_type: str
    content: bytes


@dataclass(frozen=True)
class IncomingMail:
    """A mail as ticketdesk acts on it."""

    key: str
    sender: str
    sender_name: str
    subject: str
    recipients: list[str]
    thread_refs: str
    automatic: str | None
    text: str
    files: list[MailFile]


def message_key(message: Message, raw: bytes) -> str:
    """What makes a message the same message when it comes again: its Message-ID, or the
    hash of its bytes when it has none."""
    message_id = _header(message, "Message-ID")
    if message_id:
        return message_id[:998]
    return f"sha256:{hashlib.sha256(raw).hexdigest()}"


def envelope(raw: bytes) -> tuple[str, str, str]:
    """The message's key, sender address and subject, for its row; whatever the rest of
    it holds, this does not fail."""
    message = parse(raw)
    senders = getaddresses([_header(message, "From")])
    sender = senders[0][1].lower() if senders else ""
    return message_key(message, raw), sender[:320], _header(message, "Subject")[:500]


def parse(raw: bytes) -> EmailMessage:
    """The message in ``raw``, read leniently (as mail clients do)."""
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _header(message: Message, name: str) -> str:
    try:
        return str(message.get(name, "") or "").strip()
    except (ValueError, IndexError):
        # A header too broken for the parser is treated as absent.
        return ""


def automatic_reason(message: Message) -> str | None:
    """Why ``message`` was sent by a machine (an auto-reply, a bounce, a list), or None.

    Such a mail never becomes a comment, and nothing is sent back to it: that is how
    two auto-responders end up mailing each other forever (RFC 3834).
    """
    auto_submitted = _header(message, "Auto-Submitted").split(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return f"an automatic message (Auto-Submitted: {auto_submitted})"
    precedence = _header(message, "Precedence").lower()
    if precedence in ("bulk", "junk", "list"):
        return f"an automatic message (Precedence: {precedence})"
    for name in ("X-Autoreply", "X-Autorespond"):
        if name in message:
            return f"an automatic reply ({name})"
    if message.get_content_type() == "multipart/report":
        report = str(message.get_param("report-type", "") or "")
        return f"a delivery report ({report or 'multipart/report'})"
    if "Return-Path" in message and _header(message, "Return-Path").strip("<> ") == "":
        return "a bounce (empty Return-Path)"
    sender = getaddresses([_header(message, "From")])
    if sender and sender[0][1].lower().startswith(_REPORTING_SENDERS):
        return f"a delivery report (from {sender[0][1]})"
    return None


def _body_text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    assert isinstance(body, EmailMessage)
    try:
        content = body.get_content()
    except (LookupError, ValueError):
        # An unknown charset: decode what can be decoded.
        payload = body.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if not isinstance(content, str):
        return ""
    if body.get_content_type() == "text/html":
        # Images point at parts of the mail (cid:…), which mean nothing on a ticket.
        content = markdownify(content, heading_style="ATX", strip=["img"])
    return content


def new_text(text: str) -> str:
    """What the sender wrote: ``text`` without the quoted history and the signature."""
    replies = _REPLY_PARSER.read(text).replies
    # The parser skips an empty first part: a first part that begins at an "… wrote:"
    # line is the quoted history, and the sender wrote nothing of their own.
    if not replies or replies[0].headers:
        return ""
    return str(replies[0].body).strip()


def _files(message: EmailMessage) -> list[MailFile]:
    body = message.get_body(preferencelist=("plain", "html"))
    files = []
    for part in message.walk():
        if part.is_multipart() or part is body:
            continue
        disposition = part.get_content_disposition()
        filename = part.get_filename()
        if disposition != "attachment" and filename is None:
            continue  # another rendering of the text (an HTML alternative), not a file
        payload = part.get_payload(decode=True)
        files.append(
            MailFile(
                filename=filename,
                declared_type=part.get_content_type(),
                content=payload if isinstance(payload, bytes) else b"",
            )
        )
    return files


def read_mail(raw: bytes) -> IncomingMail:
    """Everything ticketdesk needs to know about the mail in ``raw``."""
    message = parse(raw)
    senders = getaddresses([_header(message, "From")])
    name, address = senders[0] if senders else ("", "")
    recipients = [_header(message, header) for header in RECIPIENT_HEADERS]
    for header in ("Delivered-To", "X-Original-To"):
        # These may come once per hop.
        recipients += [str(value) for value in message.get_all(header, [])[1:]]
    return IncomingMail(
        key=message_key(message, raw),
        sender=address.lower(),
        sender_name=name,
        subject=_header(message, "Subject"),
        recipients=[value for value in recipients if value],
        thread_refs=f"{_header(message, 'In-Reply-To')} {_header(message, 'References')}",
        automatic=automatic_reason(message),
        text=new_text(_body_text(message)),
        files=_files(message),
    )
