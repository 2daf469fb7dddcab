"""Mail bodies from Jinja2 templates: each mail a plain-text and an HTML part.

``templates/<name>.txt.j2`` and ``templates/<name>.html.j2``; the HTML one is
autoescaped, so a ticket's title or a comment's text cannot inject markup.
"""

from dataclasses import dataclass
from functools import cache
from typing import Any

import jinja2


@dataclass(frozen=True)
class Rendered:
    """A mail body in both forms."""

    text: str
    html: str


@cache
def environment() -> jinja2.Environment:
    """The templates, loaded once from the package."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("ticketdesk.mail", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(name: str, **context: Any) -> Rendered:
    """Both parts of the mail ``name``, filled in with ``context``."""
    env = environment()
    return Rendered(
        text=env.get_template(f"{name}.txt.j2").render(**context),
        html=env.get_template(f"{name}.html.j2").render(**context),
    )
