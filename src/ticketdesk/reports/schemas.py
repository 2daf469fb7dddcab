"""What the reports answer: one series of points per value of the split (or one for all)."""

from datetime import date
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

Interval = Literal["day", "week"]
SplitBy = Literal["team", "agent", "type", "priority", "label"]


class VolumePoint(BaseModel):
    """Tickets created and resolved (or closed without being resolved) in the period."""

    created: int
    resolved: int


class BacklogPoint(BaseModel):
    """Tickets neither resolved nor closed (nor merged away) at the end of the period."""

    open: int


class Durations(BaseModel):
    """Business-time durations ending in the period: how many, their median and 90th
    percentile (nearest rank), each within 1 % of the exact figure."""

    count: int
    median_seconds: float | None
    p90_seconds: float | None


class DurationsPoint(BaseModel):
    """First responses given and resolutions made in the period: the business time from
    the ticket's creation to each."""

    first_response: Durations
    resolution: Durations


class SlaAttainment(BaseModel):
    """Targets decided in the period: met (the clock ended in time) or missed (breached)."""

    met: int
    missed: int
    # met / (met + missed); null when none was decided.
    attainment: float | None


class SlaPoint(BaseModel):
    """SLA targets decided in the period."""

    first_response: SlaAttainment
    resolution: SlaAttainment


class CsatPoint(BaseModel):
    """Ratings given in the period (a changed rating counts once, where it was last given)."""

    good: int
    bad: int
    # good / (good + bad); null without ratings.
    score: float | None


P = TypeVar("P", VolumePoint, BacklogPoint, DurationsPoint, SlaPoint, CsatPoint)


class Point(BaseModel, Generic[P]):
    """One period's figures."""

    # The period's first day within the range (a week starts on Monday).
    period: date
    values: P


class Series(BaseModel, Generic[P]):
    """The figures of one value of the split, period by period, and over the whole range."""

    # The value: a team's or agent's id, a type, priority or label; "" for none (no team,
    # unassigned, no label) and for the unsplit series.
    key: str
    name: str
    points: list[Point[P]]
    total: P


class Report(BaseModel, Generic[P]):
    """A report over a range of days, in the rollups' time zone."""

    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from")
    to: date
    interval: Interval
    split_by: SplitBy | None
    time_zone: str
    series: list[Series[P]]


class VolumeReport(Report[VolumePoint]):
    """Tickets created and resolved."""


class BacklogReport(Report[BacklogPoint]):
    """Open tickets at the end of each period."""


class DurationsReport(Report[DurationsPoint]):
    """First response and resolution times in business hours."""


class SlaReport(Report[SlaPoint]):
    """SLA attainment."""


class CsatReport(Report[CsatPoint]):
    """Satisfaction ratings."""
