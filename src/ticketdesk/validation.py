"""Checks shared by request schemas of several domains."""


def no_nul(value: str) -> str:
    """Refuse NUL characters, which PostgreSQL text cannot store."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value
