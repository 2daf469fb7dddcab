"""Canned reply bodies as templates: checked when saved, rendered in a sandbox.

A body may name only the public values in ``VARIABLES`` (``{{ ticket.number }}`` …);
anything else — a filter, a call, a loop, an attribute not listed, ``__class__`` — is
refused when the reply is saved, naming the field. Rendering then runs in jinja2's
``SandboxedEnvironment`` with ``StrictUndefined``, over a context of plain strings and
numbers built from public values only, so even a body stored some other way reaches
nothing else: no internal note or field is ever in reach of a public reply.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from jinja2 import StrictUndefined, TemplateError, nodes
from jinja2.sandbox import SandboxedEnvironment

# Each variable a body may use, by namespace: what a reply may say about a ticket.
VARIABLES: dict[str, tuple[str, ...]] = {
    "ticket": ("number", "title"),
    "submitter": ("name",),
    "agent": ("name",),
}
ALLOWED = [f"{{{{ {ns}.{name} }}}}" for ns, names in VARIABLES.items() for name in names]

_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


class TemplateRefused(ValueError):
    """A body that is not a template of the allowed variables; the message says why."""


@dataclass(frozen=True)
class ReplyContext:
    """The public values a canned reply is filled in with."""

    ticket_number: int
    ticket_title: str
    submitter_name: str
    agent_name: str

    def as_namespaces(self) -> dict[str, dict[str, str | int]]:
        """The context as the template sees it: plain values, nothing with methods."""
        return {
            "ticket": {"number": self.ticket_number, "title": self.ticket_title},
            "submitter": {"name": self.submitter_name},
            "agent": {"name": self.agent_name},
        }


def _outputs(template: nodes.Template) -> Iterator[nodes.Node]:
    for node in template.body:
        if not isinstance(node, nodes.Output):
            raise TemplateRefused(
                "Only variables may be used in a canned reply, no {% … %} tags except raw."
            )
        yield from node.nodes


def _variable(node: nodes.Node) -> str | None:
    """The name of the allowed variable ``node`` is, or None."""
    if (
        isinstance(node, nodes.Getattr)
        and isinstance(node.node, nodes.Name)
        and node.node.ctx == "load"
        and node.attr in VARIABLES.get(node.node.name, ())
    ):
        return f"{node.node.name}.{node.attr}"
    return None


def check(body: str) -> list[str]:
    """The variables ``body`` uses; a body that is not a template of the allowed variables
    only is refused with ``TemplateRefused``."""
    try:
        parsed = _env.parse(body)
    except TemplateError as exc:
        raise TemplateRefused(f"The template does not parse: {exc.message}.") from None
    used: list[str] = []
    for node in _outputs(parsed):
        if isinstance(node, nodes.TemplateData):
            continue
        if isinstance(node, nodes.Const) and isinstance(node.value, str):
            continue  # {{ "{{" }}: a literal brace pair
        name = _variable(node)
        if name is None:
            raise TemplateRefused(
                f"Unknown variable in line {node.lineno}; use {', '.join(ALLOWED)}."
            )
        used.append(name)
    return used


def render(body: str, context: ReplyContext) -> str:
    """``body`` filled in with ``context``, in the sandbox."""
    check(body)
    try:
        return _env.from_string(body).render(context.as_namespaces())
    except TemplateError as exc:  # the sandbox refused something check() let through
        raise TemplateRefused(f"The template could not be filled in: {exc.message}.") from None
