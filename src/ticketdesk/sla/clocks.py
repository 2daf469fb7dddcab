"""A ticket's two SLA clocks at one instant: what is due when, what is at risk, what is
breached, and when anything next happens on its own. Pure: no database, no clock.

A clock runs from the ticket's start through business time, standing still while the
ticket is neither open nor in progress (waiting for the submitter, resolved, closed):
each such stretch is a pause, and its due time moves on by the business time the pause
covered. The first-response clock ends at the first public reply from staff; the
resolution clock at resolving or closing (a reopened ticket's clock runs on). A target
is at risk once 75 % of its business time is used, and breached once it is all used
before the clock ended. A breach stays: re-targeting or meeting the target late does
not take it back.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from ticketdesk.sla.calendar import Calendar, Pause, add_business_time

State = Literal["ok", "at_risk", "breached"]
Target = Literal["first_response", "resolution"]
AT_RISK_SHARE = 0.75
# The statuses a clock runs in.
RUNNING = frozenset({"open", "in_progress"})
# The statuses the resolution target is met in.
STOPPED = frozenset({"resolved", "closed"})


@dataclass(frozen=True)
class Clocks:
    """What a ticket's clocks are made of, as stored."""

    calendar: Calendar
    started_at: datetime
    first_response_minutes: int | None
    resolution_minutes: int | None
    pauses: Sequence[Pause] = ()
    first_responded_at: datetime | None = None
    first_response_breached_at: datetime | None = None
    resolution_breached_at: datetime | None = None


@dataclass(frozen=True)
class Reading:
    """The clocks read at one instant."""

    state: State
    first_response_due_at: datetime | None
    resolution_due_at: datetime | None
    # The nearest due time of a target not yet met: running, or already overdue.
    due_at: datetime | None
    # When the state next changes on its own (a target turns at risk or breached).
    next_check_at: datetime | None
    # Targets breached now, not before: each is announced once.
    breaches: list[Target] = field(default_factory=list)


def _deadline(clocks: Clocks, minutes: float) -> datetime | None:
    return add_business_time(
        clocks.calendar, clocks.started_at, timedelta(minutes=minutes), clocks.pauses
    )


def read(clocks: Clocks, *, status: str, now: datetime) -> Reading:
    """``clocks`` of a ticket in ``status`` at ``now``."""
    stopped = status in STOPPED
    breached = False
    at_risk = False
    breaches: list[Target] = []
    due: dict[Target, datetime | None] = {"first_response": None, "resolution": None}
    pending: list[datetime] = []
    upcoming: list[datetime] = []
    targets: list[tuple[Target, int | None, datetime | None, datetime | None]] = [
        (
            "first_response",
            clocks.first_response_minutes,
            clocks.first_responded_at,
            clocks.first_response_breached_at,
        ),
        ("resolution", clocks.resolution_minutes, None, clocks.resolution_breached_at),
    ]
    for target, minutes, met_at, breached_at in targets:
        if minutes is None:
            continue
        due_at = _deadline(clocks, minutes)
        due[target] = due_at
        if breached_at is not None:
            breached = True
        elif due_at is not None and due_at <= (met_at or now):
            breaches.append(target)
            breached = True
        if met_at is not None or stopped:
            continue
        if due_at is not None:
            pending.append(due_at)
            if due_at > now:
                upcoming.append(due_at)
        risk_at = _deadline(clocks, minutes * AT_RISK_SHARE)
        if risk_at is not None:
            if risk_at <= now:
                at_risk = True
            else:
                upcoming.append(risk_at)
    state: State = "breached" if breached else "at_risk" if at_risk else "ok"
    return Reading(
        state=state,
        first_response_due_at=due["first_response"],
        resolution_due_at=due["resolution"],
        due_at=min(pending, default=None),
        next_check_at=min(upcoming, default=None) if status in RUNNING else None,
        breaches=breaches,
    )
