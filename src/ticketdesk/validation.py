"""Checks shared by request schemas and settings of several domains."""

import re

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
