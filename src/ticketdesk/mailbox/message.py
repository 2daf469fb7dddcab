"""Reading a mail that arrived: who sent it, where it points, its new text and its files.

Who sent it is the one address in its From header (``message["From"].addresses``); a
mail with no From, or several addresses in it, names no sender and is refused. Together
with the signed reply address or the thread it answers, that From is all that
identifies a sender here: ticketdesk does not check SPF, DKIM or DMARC. That is the job
of the MTA that receives the mail, which must reject (or never deliver) mail whose From
fails them; without such checks anyone who knows a submitter's address and a ticket's
reply address or thread id can post as them.

The new text is what the sender wrote above (or without) the quoted history, with the
signature left off; ``mail-parser-reply`` tells those apart, for the phrasings of the
common mail clients in many languages. A mail with only an HTML body is turned into
Markdown first, the format comments are written in.
"""

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.utils import getaddresses
from typing import Any
from urllib.parse import urlsplit

from mailparser_reply import EmailReplyParser
from markdownify import MarkdownConverter

# Headers that carry the addresses a mail was delivered to: the reply address may be
# in any of them (Delivered-To when it came as a Bcc or through an alias).
RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To")
# The client phrasings ("On … wrote:", "Best regards") recognised. Not every language the
# library knows: some of their signature patterns cut ordinary text (Swedish takes any
# line starting with "/…" for a signature, Danish any line starting with "Tak").
_REPLY_PARSER = EmailReplyParser(languages=["en", "de", "fr", "es", "it", "nl"])
# How auto-replies begin their subjects (Exchange, Outlook, Gmail, in a few languages).
_AUTO_REPLY_SUBJECTS = (
    "automatic reply:",
    "auto:",
    "autoreply:",
    "auto-reply:",
    "out of office",
    "automatische antwort:",
    "abwesenheitsnotiz",
    "réponse automatique",
    "respuesta automática",
    "risposta automatica",
)
# Senders that only ever send reports: bounces and the like.
_REPORTING_SENDERS = ("mailer-daemon@", "postmaster@")
# How much of a message's Message-ID, sender and subject its row keeps.
MAX_MESSAGE_ID, MAX_SENDER, MAX_SUBJECT = 998, 320, 500


# Links kept when an HTML mail becomes Markdown; any other (javascript:, data:, cid:,
# a relative link) is left as its text.
_LINK_SCHEMES = ("http", "https", "mailto")


class _ToMarkdown(MarkdownConverter):
    """HTML to Markdown, keeping only links that lead somewhere a reader may go."""

    def convert_a(self, el: Any, text: str, parent_tags: set[str]) -> str:
        """A link, or only its text when it points anywhere but the web or a mail address."""
        href = str(el.get("href") or "")
        if urlsplit(href.strip()).scheme.lower() not in _LINK_SCHEMES:
            return text
        # convert_a is missing from markdownify's stubs.
        converted: str = super().convert_a(el, text, parent_tags)  # type: ignore[misc]
        return converted


@dataclass(frozen=True)
class MailFile:
    """A file attached to a mail."""

    filename: str | None
    declared_type: str
    content: bytes


@dataclass(frozen=True)
class IncomingMail:
    """A mail as ticketdesk acts on it."""

    sender: str
    subject: str
    recipients: list[str]
    thread_refs: str
    automatic: str | None
    text: str
    files: list[MailFile]
    # The addresses in Cc, lower case: copied on a submitter's mail, they follow its ticket.
    copied: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Envelope:
    """What a message's row records of it, whatever the rest of the message holds.

    ``key`` makes a message the same message when it comes again: the SHA-256 of its
    Message-ID (of any length or content), or of its bytes when it has none.
    """

    key: str
    message_id: str
    sender: str
    subject: str


def clean(value: str) -> str:
    """``value`` without control characters (NUL, line breaks, escapes) and the stray
    halves of characters a broken header decodes to: one line, storable as text."""
    return "".join(
        " " if unicodedata.category(char) == "Cc" else char
        for char in value
        if unicodedata.category(char) != "Cs"
    ).strip()


def raw_envelope(raw: bytes) -> Envelope:
    """The envelope of a message whose headers cannot be read or recorded: keyed by the
    hash of its bytes, naming nothing."""
    return Envelope(f"raw:{hashlib.sha256(raw).hexdigest()}", "", "", "")


def _envelope(message: Message, raw: bytes) -> Envelope:
    message_id = _header(message, "Message-ID")
    if message_id:
        digest = hashlib.sha256(message_id.encode("utf-8", "replace")).hexdigest()
        key = f"message-id:{digest}"
    else:
        key = raw_envelope(raw).key
    return Envelope(
        key=key,
        message_id=clean(message_id)[:MAX_MESSAGE_ID],
        sender=_listed_sender(message),
        subject=_subject(message),
    )


def envelope(raw: bytes) -> Envelope:
    """The message's key, Message-ID, sender and subject, for its row; this does not
    fail: a message too broken to read is keyed by its bytes."""
    try:
        return _envelope(parse(raw), raw)
    except Exception:  # any parser error: the message is still recorded, by its bytes
        return raw_envelope(raw)


def head_of(raw: bytes) -> bytes:
    """The header section of the message (or of the start of a message) in ``raw``."""
    head = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0]
    return head + b"\r\n\r\n"


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


def _subject(message: Message) -> str:
    return clean(_header(message, "Subject"))[:MAX_SUBJECT]


def sender_of(message: Message) -> str:
    """The address the mail is from, lowercased; empty unless the mail has exactly one
    From header naming exactly one address (RFC 5322 allows several authors, but then
    none of them alone is the sender)."""
    try:
        headers = message.get_all("From") or []
        if len(headers) != 1:
            return ""
        addresses: tuple[Address, ...] = getattr(headers[0], "addresses", ())
    except (ValueError, IndexError, TypeError):
        return ""  # a From too broken for the parser names nobody
    if len(addresses) != 1 or not addresses[0].username or not addresses[0].domain:
        return ""
    return clean(addresses[0].addr_spec).lower()[:MAX_SENDER]


def _listed_sender(message: Message) -> str:
    """Who the row says the mail is from: the sender, or else what From says, for admins."""
    return sender_of(message) or clean(_header(message, "From"))[:MAX_SENDER]


def automatic_reason(message: Message) -> str | None:
    """Why ``message`` was sent by a machine (an auto-reply, a bounce, a list), or None.

    Such a mail never becomes a comment, and nothing is sent back to it: that is how
    two auto-responders end up mailing each other forever (RFC 3834).
    """
    auto_submitted = _header(message, "Auto-Submitted").split(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return f"an automatic message (Auto-Submitted: {auto_submitted})"
    precedence = _header(message, "Precedence").lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"an automatic message (Precedence: {precedence})"
    for name in ("X-Autoreply", "X-Autorespond", "X-Autogenerated"):
        if name in message:
            return f"an automatic reply ({name})"
    if "X-Failed-Recipients" in message:
        return "a bounce (X-Failed-Recipients)"
    if "List-Id" in message:
        return "a mailing list's message (List-Id)"
    # Exchange asks for no auto-replies to many mails people write, so this header alone
    # says nothing; with a subject such as "Automatic reply: …" it marks an auto-reply.
    if "X-Auto-Response-Suppress" in message and _subject(message).lower().startswith(
        _AUTO_REPLY_SUBJECTS
    ):
        return "an automatic reply (X-Auto-Response-Suppress and its subject)"
    if message.get_content_type() == "multipart/report":
        report = str(message.get_param("report-type", "") or "")
        return f"a delivery report ({report or 'multipart/report'})"
    if "Return-Path" in message and _header(message, "Return-Path").strip("<> ") == "":
        return "a bounce (empty Return-Path)"
    sender = sender_of(message)
    if sender.startswith(_REPORTING_SENDERS):
        return f"a delivery report (from {sender})"
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
        content = _ToMarkdown(heading_style="ATX", strip=["img"]).convert(content)
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
                filename=clean(filename) if filename is not None else None,
                declared_type=part.get_content_type(),
                content=payload if isinstance(payload, bytes) else b"",
            )
        )
    return files


def read_mail(raw: bytes) -> IncomingMail:
    """Everything ticketdesk needs to know about the mail in ``raw``."""
    message = parse(raw)
    recipients = [_header(message, header) for header in RECIPIENT_HEADERS]
    for header in ("Delivered-To", "X-Original-To"):
        # These may come once per hop.
        recipients += [str(value) for value in message.get_all(header, [])[1:]]
    return IncomingMail(
        sender=sender_of(message),
        subject=_subject(message),
        recipients=[value for value in recipients if value],
        thread_refs=f"{_header(message, 'In-Reply-To')} {_header(message, 'References')}",
        automatic=automatic_reason(message),
        # NUL cannot be stored in text; the other control characters may be formatting.
        text=new_text(_body_text(message)).replace("\x00", ""),
        files=_files(message),
        copied=_copied(_header(message, "Cc")),
    )


# An address plausible enough to mail: one @, a dot in the domain, no spaces.
_PLAIN_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _copied(value: str) -> list[str]:
    seen: dict[str, None] = {}
    for _, address in getaddresses([value]) if value else []:
        address = address.strip().lower()
        if len(address) <= MAX_SENDER and _PLAIN_ADDRESS.fullmatch(address):
            seen.setdefault(address, None)
    return list(seen)
