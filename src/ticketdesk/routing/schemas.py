"""Assignment rule shapes on the wire."""

import math
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
)

from ticketdesk.labels.schemas import LabelName
from ticketdesk.validation import RequestModel, hostname, no_nul

# A ticket's type and priority, as tickets.schemas has them (a test holds them equal:
# this domain sits below tickets and cannot import them).
TicketType = Literal["bug", "feature", "support"]
Priority = Literal["low", "medium", "high", "critical"]

RuleName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(no_nul),
]
Domain = Annotated[str, StringConstraints(max_length=253), AfterValidator(hostname)]
MetadataKey = Annotated[
    str, StringConstraints(min_length=1, max_length=100), AfterValidator(no_nul)
]
MetadataValue = Annotated[
    StrictStr | StrictBool | StrictInt | StrictFloat, Field(union_mode="left_to_right")
]


def _storable_values(value: dict[str, Any]) -> dict[str, Any]:
    # What jsonb refuses (NUL characters, NaN and infinities), and text beyond reason.
    for item in value.values():
        if isinstance(item, str) and ("\x00" in item or len(item) > 1000):
            raise ValueError("text values must be at most 1,000 characters, without NUL")
        if isinstance(item, float) and not math.isfinite(item):
            raise ValueError("numbers must be finite")
    return value


class RuleConditions(RequestModel):
    """What a ticket must be for the rule to fire: every condition given must hold (an
    empty list or object: any). Within one list, any value matches."""

    types: list[TicketType] = Field(default_factory=list, max_length=3)
    priorities: list[Priority] = Field(default_factory=list, max_length=4)
    labels: list[LabelName] = Field(
        default_factory=list, max_length=20, description="The ticket carries all of them."
    )
    metadata: Annotated[dict[MetadataKey, MetadataValue], AfterValidator(_storable_values)] = Field(
        default_factory=dict,
        max_length=20,
        description="Each key of the ticket's metadata equals its value here.",
    )
    submitter_domains: list[Domain] = Field(
        default_factory=list,
        max_length=50,
        description="The submitter's address is at one of these domains or a subdomain.",
    )


class RuleActions(RequestModel):
    """What the rule does to a ticket it fires on (at least one)."""

    team_id: UUID | None = Field(default=None, description="Route the ticket to this team.")
    assignee_id: UUID | None = Field(default=None, description="Assign it to this agent.")
    round_robin: StrictBool = Field(
        default=False,
        description="Assign it to a member of team_id by rotation: the one given a ticket "
        "this way least recently, passing over those away. Not with assignee_id. A ticket "
        "already assigned to a member of the team keeps its assignee.",
    )
    add_labels: list[LabelName] = Field(default_factory=list, max_length=20)
    priority: Priority | None = Field(default=None, description="Set this priority.")


class Rule(BaseModel):
    """An assignment rule: run on new tickets in ``position`` order while enabled."""

    id: UUID
    name: str
    position: int = Field(description="1 runs first.")
    enabled: bool
    on_update: bool = Field(
        description="Also run when staff or the submitter change a ticket's type, priority, "
        "labels or metadata."
    )
    stop_processing: bool = Field(description="When this rule fires, later rules do not run.")
    conditions: RuleConditions
    actions: RuleActions
    created_at: datetime
    updated_at: datetime


class RuleCreate(RequestModel):
    """A new assignment rule, last in the order unless ``position`` says where."""

    name: RuleName
    enabled: StrictBool = True
    on_update: StrictBool = False
    stop_processing: StrictBool = False
    conditions: RuleConditions = Field(default_factory=RuleConditions)
    actions: RuleActions
    position: Annotated[StrictInt, Field(ge=1)] | None = Field(
        default=None, description="Where in the order (1: first); past the end is last."
    )


class RuleUpdate(RequestModel):
    """A change to an assignment rule; absent fields stay as they are. Conditions and
    actions are replaced whole."""

    name: RuleName | None = None
    enabled: StrictBool | None = None
    on_update: StrictBool | None = None
    stop_processing: StrictBool | None = None
    conditions: RuleConditions | None = None
    actions: RuleActions | None = None
    position: Annotated[StrictInt, Field(ge=1)] | None = Field(
        default=None, description="Move the rule here in the order (1: first)."
    )
