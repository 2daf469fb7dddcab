"""ticketdesk's mail addresses and message ids, and reading a ticket back out of them.

A reply to a notification finds its ticket two ways. Its ``To`` is the ticket's reply
address, ``support+t1234-<signature>@example.com``: the sender's address with the
ticket number and an HMAC of it added, so nobody can post to a ticket by guessing an
address. And its ``In-Reply-To``/``References`` carry the ticket's thread id,
``<ticket-<uuid>@example.com>``, which every notification about the ticket names in its
``References``, or the notification's own id, ``<ticket-<uuid>.<random>@example.com>``.
"""

import hashlib
import hmac
import re
import secrets
from email.utils import getaddresses, parseaddr
from uuid import UUID

# Hex digits of the signature: 64 bits, far beyond guessing by mail.
_SIGNATURE_CHARS = 16
# A ticket's thread id, or the id of one mail about it: <ticket-<uuid>[.<random>]@domain>.
_THREAD_ID = re.compile(r"<ticket-([0-9a-f-]{36})(?:\.[0-9a-f]+)?@([^>]+)>")


def address_of(sender: str) -> str:
    """The bare address in ``Name <address>`` (or the address itself)."""
    return parseaddr(sender)[1]


def domain_of(sender: str) -> str:
    """The domain of ``sender``'s address, for message ids."""
    return address_of(sender).rpartition("@")[2]


def _signature(secret: bytes, number: int) -> str:
    digest = hmac.new(secret, f"reply-to-ticket:{number}".encode(), hashlib.sha256)
    return digest.hexdigest()[:_SIGNATURE_CHARS]


def reply_address(mail_from: str, secret: bytes, number: int) -> str:
    """The address a reply about ticket ``number`` goes to: ``local+t<n>-<sig>@domain``."""
    local, _, domain = address_of(mail_from).rpartition("@")
    return f"{local}+t{number}-{_signature(secret, number)}@{domain}"


def ticket_in_reply_address(address: str, mail_from: str, secret: bytes) -> int | None:
    """The ticket number in one of our reply addresses, if its signature is right."""
    local, _, domain = address_of(mail_from).rpartition("@")
    match = re.fullmatch(
        rf"{re.escape(local)}\+t([0-9]{{1,18}})-([0-9a-f]{{{_SIGNATURE_CHARS}}})@{re.escape(domain)}",
        address_of(address),
        flags=re.IGNORECASE,
    )
    if match is None:
        return None
    number = int(match[1])
    if not hmac.compare_digest(match[2].lower(), _signature(secret, number)):
        return None
    return number


def _local_and_domain(mail_from: str) -> tuple[str, str]:
    local, _, domain = address_of(mail_from).lower().rpartition("@")
    return local, domain


def looks_like_reply_address(address: str, mail_from: str) -> bool:
    """Whether ``address`` has the form of a reply address (``local+t…@domain``), signed
    rightly or not."""
    local, domain = _local_and_domain(mail_from)
    address = address_of(address).lower()
    return address.startswith(f"{local}+t") and address.endswith(f"@{domain}")


def is_own_address(address: str, mail_from: str) -> bool:
    """Whether ``address`` is ticketdesk's own: ``mail_from``'s address, or any
    ``local+…@domain`` of it (the reply addresses among them)."""
    local, domain = _local_and_domain(mail_from)
    address = address_of(address).lower()
    return address == f"{local}@{domain}" or (
        address.startswith(f"{local}+") and address.endswith(f"@{domain}")
    )


def tickets_in_recipients(header_values: list[str], mail_from: str, secret: bytes) -> list[int]:
    """The ticket numbers of every valid reply address among ``To``/``Cc`` values."""
    numbers = []
    for _, address in getaddresses(header_values):
        number = ticket_in_reply_address(address, mail_from, secret)
        if number is not None and number not in numbers:
            numbers.append(number)
    return numbers


def thread_id(ticket_id: UUID, domain: str) -> str:
    """The message id every mail about a ticket refers to, so clients thread them."""
    return f"<ticket-{ticket_id}@{domain}>"


def ticket_in_thread(header_value: str, domain: str) -> UUID | None:
    """The ticket whose thread (or one of whose mails) ``In-Reply-To`` or ``References``
    names, if any."""
    for match in _THREAD_ID.finditer(header_value):
        if match[2].lower() == domain.lower():
            return UUID(match[1])
    return None


def message_id(domain: str, ticket_id: UUID | None = None) -> str:
    """A new, unique message id at ``domain``; one about a ticket names the ticket."""
    if ticket_id is None:
        return f"<{secrets.token_hex(16)}@{domain}>"
    return f"<ticket-{ticket_id}.{secrets.token_hex(8)}@{domain}>"
