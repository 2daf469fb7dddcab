"""Assignment rules: which team, agent, labels and priority a ticket gets on arrival.

Admins keep an ordered list of rules. Each has conditions (type, priority, labels,
metadata, the submitter's address domain; all that are given must hold) and actions (a
team, an agent or round robin within the team, labels to add, a priority). On a new
ticket every enabled rule is tried in order and every one that matches fires, each
seeing the ticket as the rules before it left it, until one that fires says
``stop_processing``. Rules marked ``on_update`` also run when a ticket's type, priority,
labels or metadata change.

This module stores the rules and decides which match; ``tickets.service`` applies their
actions, as the ticket's other changes, and records that each fired.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from ticketdesk.db import Connection
from ticketdesk.errors import Conflict, InvalidInput, NotFound
from ticketdesk.labels import service as labels
from ticketdesk.routing.schemas import Rule, RuleActions, RuleConditions, RuleCreate, RuleUpdate
from ticketdesk.sql import (
    execute,
    fetch_all,
    fetch_optional,
    fetch_optional_value,
    fetch_value,
    fetch_values,
    load_queries,
)
from ticketdesk.teams import service as teams
from ticketdesk.users import service as users

Q = load_queries(__package__)
MAX_RULES = 200


@dataclass(frozen=True)
class TicketFacts:
    """What rules look at in a ticket."""

    type: str
    priority: str
    tags: Sequence[str]
    metadata: Mapping[str, Any]
    submitter_email: str


def _same_value(found: Any, wanted: Any) -> bool:
    # JSON's true is not 1, nor "1" 1: compare booleans, numbers and text each as such.
    if isinstance(found, bool) or isinstance(wanted, bool):
        return found is wanted
    if isinstance(found, int | float) and isinstance(wanted, int | float):
        return found == wanted
    return type(found) is type(wanted) and found == wanted


def matches(conditions: RuleConditions, facts: TicketFacts) -> bool:
    """Whether a ticket with ``facts`` meets every condition given."""
    if conditions.types and facts.type not in conditions.types:
        return False
    if conditions.priorities and facts.priority not in conditions.priorities:
        return False
    carried = {tag.lower() for tag in facts.tags}
    if any(label.lower() not in carried for label in conditions.labels):
        return False
    for key, wanted in conditions.metadata.items():
        if key not in facts.metadata or not _same_value(facts.metadata[key], wanted):
            return False
    if conditions.submitter_domains:
        domain = facts.submitter_email.rpartition("@")[2].lower()
        if not any(domain == d or domain.endswith(f".{d}") for d in conditions.submitter_domains):
            return False
    return True


async def rules_to_run(conn: Connection, *, on_update: bool) -> list[Rule]:
    """The enabled rules in order: all for a new ticket, those marked ``on_update`` for a
    change."""
    return await fetch_all(conn, Rule, Q.rules_to_run, {"on_update": on_update})


async def list_rules(conn: Connection) -> list[Rule]:
    """Every rule, in order."""
    return await fetch_all(conn, Rule, Q.list_rules)


async def get_rule(conn: Connection, rule_id: UUID) -> Rule:
    """One rule; ``NotFound`` otherwise."""
    rule = await fetch_optional(conn, Rule, Q.get_rule, {"rule_id": rule_id})
    if rule is None:
        raise NotFound("No such assignment rule.", code="rule_not_found")
    return rule


async def _checked_conditions(conn: Connection, conditions: RuleConditions) -> RuleConditions:
    if not conditions.labels:
        return conditions
    try:
        names = await labels.canonical_tags(conn, conditions.labels)
    except InvalidInput as exc:
        exc.field = "conditions.labels"
        raise
    return conditions.model_copy(update={"labels": names})


async def _checked_actions(conn: Connection, actions: RuleActions) -> RuleActions:
    if not (
        actions.team_id
        or actions.assignee_id
        or actions.round_robin
        or actions.add_labels
        or actions.priority
    ):
        raise InvalidInput("Give the rule something to do.", code="no_actions", field="actions")
    if actions.round_robin and actions.team_id is None:
        raise InvalidInput(
            "Round robin hands tickets out within a team: name it in team_id.",
            code="round_robin_needs_team",
            field="actions.round_robin",
        )
    if actions.round_robin and actions.assignee_id is not None:
        raise InvalidInput(
            "Assign to one agent or by round robin, not both.",
            code="conflicting_actions",
            field="actions.assignee_id",
        )
    # Held until the rule is stored: a team being deleted meanwhile would leave the rule
    # naming no team, and every ticket it fires on would fail.
    if actions.team_id is not None and not await teams.hold_team(conn, actions.team_id):
        raise InvalidInput("No such team.", code="unknown_team", field="actions.team_id")
    if actions.assignee_id is not None and not await users.is_assignable(conn, actions.assignee_id):
        raise InvalidInput(
            "Tickets can only be assigned to an active agent or admin.",
            code="not_assignable",
            field="actions.assignee_id",
        )
    if not actions.add_labels:
        return actions
    try:
        names = await labels.canonical_tags(conn, actions.add_labels)
    except InvalidInput as exc:
        exc.field = "actions.add_labels"
        raise
    return actions.model_copy(update={"add_labels": names})


async def _reorder(conn: Connection, order: list[UUID], rule_id: UUID, position: int) -> None:
    """Put ``rule_id`` at ``position`` (1-based; past the end: last) and number all 1..n."""
    rest = [i for i in order if i != rule_id]
    rest.insert(min(position, len(rest) + 1) - 1, rule_id)
    await execute(conn, Q.set_positions, {"ids": rest})


async def create_rule(conn: Connection, body: RuleCreate) -> Rule:
    """Add a rule, last unless ``body.position`` says where."""
    conditions = await _checked_conditions(conn, body.conditions)
    actions = await _checked_actions(conn, body.actions)
    order = await fetch_values(conn, UUID, Q.lock_rule_order)
    if len(order) >= MAX_RULES:
        raise Conflict(f"There are {MAX_RULES} rules already.", code="too_many_rules")
    rule_id = await fetch_value(
        conn,
        UUID,
        Q.insert_rule,
        {
            "name": body.name,
            "position": len(order) + 1,
            "enabled": body.enabled,
            "on_update": body.on_update,
            "stop_processing": body.stop_processing,
            "conditions": Jsonb(conditions.model_dump(mode="json")),
            "actions": Jsonb(actions.model_dump(mode="json")),
        },
    )
    if body.position is not None:
        await _reorder(conn, order, rule_id, body.position)
    return await get_rule(conn, rule_id)


async def update_rule(conn: Connection, rule_id: UUID, body: RuleUpdate) -> Rule:
    """Change a rule; ``position`` moves it, the others closing up around it."""
    order = await fetch_values(conn, UUID, Q.lock_rule_order)
    if rule_id not in order:
        raise NotFound("No such assignment rule.", code="rule_not_found")
    conditions = None
    if body.conditions is not None:
        checked = await _checked_conditions(conn, body.conditions)
        conditions = Jsonb(checked.model_dump(mode="json"))
    actions = None
    if body.actions is not None:
        actions = Jsonb((await _checked_actions(conn, body.actions)).model_dump(mode="json"))
    await execute(
        conn,
        Q.update_rule,
        {
            "rule_id": rule_id,
            "name": body.name,
            "enabled": body.enabled,
            "on_update": body.on_update,
            "stop_processing": body.stop_processing,
            "conditions": conditions,
            "actions": actions,
        },
    )
    if body.position is not None:
        await _reorder(conn, order, rule_id, body.position)
    return await get_rule(conn, rule_id)


async def delete_rule(conn: Connection, rule_id: UUID) -> None:
    """Remove a rule; those after it move up."""
    order = await fetch_values(conn, UUID, Q.lock_rule_order)
    if await fetch_optional_value(conn, UUID, Q.delete_rule, {"rule_id": rule_id}) is None:
        raise NotFound("No such assignment rule.", code="rule_not_found")
    await execute(conn, Q.set_positions, {"ids": [i for i in order if i != rule_id]})


async def check_team_unused(conn: Connection, team_id: UUID) -> None:
    """Refuse to let a team go while a rule routes tickets to it."""
    names = await fetch_values(conn, str, Q.rules_naming_team, {"team_id": team_id})
    if names:
        raise Conflict(
            f"Assignment rules route tickets to this team: {', '.join(names)}. Change or "
            "delete them first.",
            code="team_in_use",
        )


async def relabel(conn: Connection, old: str, new: str | None) -> None:
    """Follow a label renamed from ``old`` to ``new`` in every rule, or deleted (``None``):
    a deleted label is taken out of the labels rules add, but stays in their conditions,
    where it matches no ticket (taking it out would widen a rule to tickets it was not
    written for)."""
    await fetch_values(conn, UUID, Q.lock_rule_order)

    def follow(names: list[str], *, keep_deleted: bool) -> list[str]:
        if new is None:
            return names if keep_deleted else [n for n in names if n.lower() != old.lower()]
        return sorted({new if n.lower() == old.lower() else n for n in names})

    for rule in await list_rules(conn):
        conditions = rule.conditions.model_copy(
            update={"labels": follow(rule.conditions.labels, keep_deleted=True)}
        )
        actions = rule.actions.model_copy(
            update={"add_labels": follow(rule.actions.add_labels, keep_deleted=False)}
        )
        if conditions == rule.conditions and actions == rule.actions:
            continue
        await execute(
            conn,
            Q.update_rule,
            {
                "rule_id": rule.id,
                "name": None,
                "enabled": None,
                "on_update": None,
                "stop_processing": None,
                "conditions": Jsonb(conditions.model_dump(mode="json")),
                "actions": Jsonb(actions.model_dump(mode="json")),
            },
        )
