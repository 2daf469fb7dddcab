"""Named queries from ``queries.sql`` files, in the style of procrastinate and sqlc.

A file holds blocks introduced by ``-- name: some_query``; each block is one statement
with ``%(param)s`` placeholders. ``load_queries(__package__)`` returns them by name.
"""

import re
from importlib import resources
from typing import LiteralString, cast

_NAME = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.MULTILINE)


class Queries:
    """The queries of one domain, looked up as attributes: ``Q.get_ticket``."""

    def __init__(self, source: str, origin: str) -> None:
        self._queries: dict[str, LiteralString] = {}
        parts = _NAME.split(source)
        # parts = [preamble, name1, body1, name2, body2, ...]
        for name, body in zip(parts[1::2], parts[2::2], strict=True):
            if name in self._queries:
                raise ValueError(f"{origin}: query {name!r} defined twice")
            self._queries[name] = cast(LiteralString, body.strip())
        self._origin = origin

    def __getattr__(self, name: str) -> LiteralString:
        try:
            return self._queries[name]
        except KeyError:
            raise AttributeError(f"{self._origin} has no query {name!r}") from None

    def names(self) -> list[str]:
        """Every query name in the file."""
        return list(self._queries)


def load_queries(package: str, filename: str = "queries.sql") -> Queries:
    """Load ``filename`` from ``package`` once, at import time."""
    source = (resources.files(package) / filename).read_text(encoding="utf-8")
    return Queries(source, f"{package}/{filename}")
