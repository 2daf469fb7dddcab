"""What a new password must be: long enough, and not one guessers try first.

Refused: one of fewer than ``MIN_LENGTH`` or more than ``MAX_LENGTH`` characters, an
entry of the list of common and breached passwords shipped with the package
(``common_passwords.txt.gz``: about 40,000, from zxcvbn and Django, compared lower-case,
so it works offline), a password of only whitespace, and one of fewer than
``MIN_DISTINCT_CHARACTERS`` different characters (``aaaaaaaaaa``, ``ababababab``).
"""

import gzip
from functools import cache
from importlib import resources

from ticketdesk.errors import InvalidInput

MIN_LENGTH = 10
MAX_LENGTH = 200
MIN_DISTINCT_CHARACTERS = 5


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list, read once a process."""
    data = resources.files(__package__).joinpath("common_passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode().split("\n")) - {""}


def check_password(password: str, *, field: str = "password") -> None:
    """Refuse a password guessers try first: ``InvalidInput`` naming ``field``.

    The request schemas hold a password to its length already; this holds the other
    ways a password is set (``ticketdesk createuser``) to it too.
    """
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise InvalidInput(
            f"A password needs {MIN_LENGTH} to {MAX_LENGTH} characters.",
            code="password_too_short" if len(password) < MIN_LENGTH else "password_too_long",
            field=field,
        )
    if not password.strip():
        raise InvalidInput(
            "A password of only spaces is too easy to guess. Choose another.",
            code="password_too_simple",
            field=field,
        )
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        raise InvalidInput(
            f"A password needs at least {MIN_DISTINCT_CHARACTERS} different characters.",
            code="password_too_simple",
            field=field,
        )
    if password.lower() in common_passwords() or password.strip().lower() in common_passwords():
        raise InvalidInput(
            "This password is on a list of common and leaked passwords that guessers try "
            "first. Choose another.",
            code="password_too_common",
            field=field,
        )
