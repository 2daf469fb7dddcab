"""SLA shapes on the wire: policies, their business calendars, and a ticket's clocks."""

import itertools
import re
from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    StrictInt,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ticketdesk.sla.calendar import WEEKDAYS, check_country
from ticketdesk.validation import RequestModel, no_nul

# The ticket vocabulary, as tickets.schemas spells it (a layer up: it cannot be imported).
Priority = Literal["low", "medium", "high", "critical"]
TicketType = Literal["bug", "feature", "support"]
State = Literal["ok", "at_risk", "breached"]

_CLOCK = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]|24:00")
# A year of minutes: the longest target.
MAX_MINUTES = 525_600


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("must be an IANA time zone such as Europe/Berlin") from None
    return value


def _clock(value: str) -> str:
    if not _CLOCK.fullmatch(value):
        raise ValueError("must be a time of day as HH:MM (24:00 ends the day)")
    return value


Clock = Annotated[str, AfterValidator(_clock)]
Minutes = Annotated[StrictInt, Field(ge=1, le=MAX_MINUTES)]


class BusinessHours(RequestModel):
    """Business hours within one day, local time: ``start`` up to ``end``."""

    start: Clock = Field(examples=["09:00"])
    end: Clock = Field(examples=["17:00"], description="After start; 24:00 is midnight.")

    @model_validator(mode="after")
    def _ordered(self) -> "BusinessHours":
        if self.start == "24:00" or self.end <= self.start:
            raise ValueError(
                "end must come after start (hours past midnight are two ranges: "
                "up to 24:00, then from 00:00 the next day)"
            )
        return self


DayRanges = Annotated[list[BusinessHours], Field(max_length=6)]


class BusinessWeek(RequestModel):
    """The business hours of each weekday; a day with none is closed."""

    mon: DayRanges = Field(default_factory=list)
    tue: DayRanges = Field(default_factory=list)
    wed: DayRanges = Field(default_factory=list)
    thu: DayRanges = Field(default_factory=list)
    fri: DayRanges = Field(default_factory=list)
    sat: DayRanges = Field(default_factory=list)
    sun: DayRanges = Field(default_factory=list)

    @field_validator(*WEEKDAYS)
    @classmethod
    def _apart(cls, ranges: list[BusinessHours]) -> list[BusinessHours]:
        ordered = sorted(ranges, key=lambda r: r.start)
        for before, after in itertools.pairwise(ordered):
            if after.start < before.end:
                raise ValueError("business hours must not overlap")
        return ranges

    @model_validator(mode="after")
    def _sane(self) -> "BusinessWeek":
        if not any(getattr(self, day) for day in WEEKDAYS):
            raise ValueError("at least one day needs business hours")
        return self


class BusinessCalendar(RequestModel):
    """When a policy's clocks run: weekly hours in a time zone, less holidays."""

    time_zone: Annotated[str, AfterValidator(_time_zone)] = Field(
        max_length=64, examples=["Europe/Berlin"], description="An IANA time zone."
    )
    week: BusinessWeek
    holiday_country: Annotated[str | None, StringConstraints(pattern=r"^[A-Z]{2,3}$")] = Field(
        default=None,
        description="An ISO 3166 country code whose public holidays are closed days.",
        examples=["DE"],
    )
    holiday_subdivision: Annotated[
        str | None, StringConstraints(max_length=10, pattern=r"^[A-Za-z0-9-]+$")
    ] = Field(default=None, description="A subdivision of that country (a state, a region).")
    holidays: Annotated[list[date], Field(max_length=366)] = Field(
        default_factory=list, description="More closed days."
    )

    # Each check names its own field: the country, then the subdivision within it.
    @field_validator("holiday_country")
    @classmethod
    def _known_country(cls, country: str | None) -> str | None:
        if country is not None and (why := check_country(country, None)):
            raise ValueError(f"no public holidays known: {why}")
        return country

    @field_validator("holiday_subdivision")
    @classmethod
    def _known_subdivision(cls, subdivision: str | None, info: ValidationInfo) -> str | None:
        if subdivision is None:
            return None
        if "holiday_country" not in info.data:
            # The country failed already and was named.
            return subdivision
        country = info.data["holiday_country"]
        if country is None:
            raise ValueError("needs a holiday_country")
        if why := check_country(country, subdivision):
            raise ValueError(f"no public holidays known: {why}")
        return subdivision

    def stored(self) -> dict[str, Any]:
        """The calendar as policies and tickets' clocks store it."""
        return self.model_dump(mode="json")


class SlaTarget(RequestModel):
    """The targets for tickets of one priority, in minutes of business time; a target
    left out is not measured."""

    priority: Priority
    first_response_minutes: Minutes | None = None
    resolution_minutes: Minutes | None = None

    @model_validator(mode="after")
    def _some(self) -> "SlaTarget":
        if self.first_response_minutes is None and self.resolution_minutes is None:
            raise ValueError("set first_response_minutes, resolution_minutes or both")
        return self


def _one_per_priority(targets: list[SlaTarget]) -> list[SlaTarget]:
    priorities = [t.priority for t in targets]
    if len(set(priorities)) != len(priorities):
        raise ValueError("must name each priority at most once")
    return targets


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(no_nul),
]


class SlaPolicyWrite(RequestModel):
    """An SLA policy as an admin writes it."""

    name: Name
    position: StrictInt = Field(
        default=0,
        ge=0,
        le=1_000_000,
        description="Policies are tried in (position, name) order; the first that "
        "matches a ticket applies.",
    )
    ticket_type: TicketType | None = Field(
        default=None, description="Only tickets of this type; null: any."
    )
    label: (
        Annotated[str, StringConstraints(min_length=1, max_length=50), AfterValidator(no_nul)]
        | None
    ) = Field(default=None, description="Only tickets carrying this label; null: any.")
    calendar: BusinessCalendar
    targets: Annotated[
        list[SlaTarget], Field(min_length=1, max_length=4), AfterValidator(_one_per_priority)
    ]


class SlaPolicy(BaseModel):
    """An SLA policy."""

    id: UUID
    name: str
    position: int
    ticket_type: TicketType | None
    label: str | None
    calendar: BusinessCalendar
    targets: list[SlaTarget]
    created_at: datetime
    updated_at: datetime


class TicketSla(BaseModel):
    """A ticket's SLA clocks (staff)."""

    policy_id: UUID | None = Field(description="Null once the policy was deleted.")
    policy_name: str
    state: State
    first_response_minutes: int | None
    resolution_minutes: int | None
    started_at: datetime
    first_response_due_at: datetime | None = Field(
        description="Null when not measured, or while the clock stands still with time left."
    )
    first_responded_at: datetime | None
    first_response_breached_at: datetime | None
    resolution_due_at: datetime | None
    resolution_breached_at: datetime | None
    paused: bool = Field(description="The clocks stand still (waiting, resolved or closed).")
