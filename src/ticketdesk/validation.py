"""Checks shared by request schemas and settings of several domains."""

import re
from email.utils import formataddr, getaddresses

from pydantic import BaseModel, BeforeValidator, ConfigDict

# A DNS host name: dot-separated labels of letters, digits and inner hyphens.
_HOSTNAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*")


def no_nul(value: str) -> str:
    """Refuse NUL characters, which PostgreSQL text cannot store."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def is_hostname(value: str) -> bool:
    """Whether ``value`` (lower case) is a well-formed host name such as ``corp.local``."""
    return len(value) <= 253 and _HOSTNAME.fullmatch(value) is not None


def hostname(value: str) -> str:
    """``value`` as a lower-case host name; refuse anything else."""
    value = value.strip().lower()
    if not is_hostname(value):
        raise ValueError("must be a host name such as corp.local")
    return value


# The characters RFC 5322 allows unquoted in a local part, less "+": ticketdesk adds
# "+t<number>-<signature>" to the sender's local part for the reply address.
_LOCAL_PART = re.compile(r"[A-Za-z0-9.!#$%&'*/=?^_`{|}~-]{1,64}")


def mail_address(value: str) -> str:
    """A sender such as ``support@example.com`` or ``Support <support@example.com>``,
    written back in the canonical form; refuse anything else."""
    found = getaddresses([value.strip()])
    name, address = found[0] if len(found) == 1 else ("", "")
    local, at, domain = address.rpartition("@")
    if not at or not _LOCAL_PART.fullmatch(local) or not is_hostname(domain.lower()):
        raise ValueError(
            "must be a mail address such as support@example.com or "
            "Support <support@example.com>, without + in the part before the @"
        )
    return formataddr((name, f"{local}@{domain.lower()}"))


class RequestModel(BaseModel):
    """A request body: a field it does not know is refused with a 422 that names it,
    never silently dropped. Its booleans and integers must be JSON's own, so declare
    them ``StrictBool`` and ``StrictInt``: ``0`` is not ``false`` and ``"2"`` is not
    ``2`` (a test holds every request model to this)."""

    model_config = ConfigDict(extra="forbid")


_PLAIN_INTEGER = re.compile(r"-?[0-9]{1,18}")


def plain_integer(value: object) -> object:
    """A query or path integer written as digits only: no spaces, signs of +, or
    underscores, which int() would otherwise take."""
    if isinstance(value, str) and not _PLAIN_INTEGER.fullmatch(value):
        raise ValueError("must be an integer written in digits")
    return value


def plain_boolean(value: object) -> object:
    """A query boolean written ``true`` or ``false``, not ``1``, ``yes`` or ``on``."""
    if isinstance(value, str) and value not in {"true", "false"}:
        raise ValueError("must be true or false")
    return value


# RFC 3339's date-time, which OpenAPI's "format: date-time" names: with its offset.
_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def plain_date_time(value: object) -> object:
    """A query date-time written as RFC 3339 with its offset (``2025-01-02T12:00:00Z``),
    not a bare date, a time without an offset, or seconds since 1970."""
    if isinstance(value, str) and not _DATE_TIME.fullmatch(value):
        raise ValueError("must be a date-time with its offset, such as 2025-01-02T12:00:00Z")
    return value


# Integers, booleans and date-times as query or path parameters, which arrive as text;
# each goes after the parameter's Query() or Path(), so its bounds stay in the API's
# description: ``Annotated[int, Query(ge=1, le=100), PlainInteger]``.
PlainInteger = BeforeValidator(plain_integer)
PlainBoolean = BeforeValidator(plain_boolean)
PlainDateTime = BeforeValidator(plain_date_time)
