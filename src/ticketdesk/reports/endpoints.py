"""Reports for staff: volume, backlog, response and resolution times, SLA attainment, CSAT."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from ticketdesk.auth.dependencies import CurrentAgent
from ticketdesk.db import Transaction
from ticketdesk.errors import Forbidden, InvalidInput, Unauthorized, problem_responses
from ticketdesk.reports import service
from ticketdesk.reports.schemas import (
    BacklogReport,
    CsatReport,
    DurationsReport,
    Interval,
    SlaReport,
    SplitBy,
    VolumeReport,
)

router = APIRouter(tags=["reports"], prefix="/reports")

# The longest range a report covers: two years and a day, whatever the interval.
MAX_DAYS = 731


def report_range(
    start: Annotated[
        date, Query(alias="from", description="The first day of the range, included.")
    ],
    to: Annotated[date, Query(description="The last day of the range, included.")],
    interval: Annotated[
        Interval, Query(description="One point a day, or a week (weeks start on Monday).")
    ] = "day",
    split_by: Annotated[
        SplitBy | None,
        Query(description="One series per team, agent, type, priority or label; unset: one."),
    ] = None,
) -> service.Range:
    """The range and split the query asks for."""
    if to < start:
        raise InvalidInput("The range ends before it starts.", code="invalid_range", field="to")
    if (to - start).days + 1 > MAX_DAYS:
        raise InvalidInput(
            f"A report covers at most {MAX_DAYS} days.", code="range_too_long", field="to"
        )
    return service.Range(start=start, end=to, interval=interval, split_by=split_by)


ReportRange = Annotated[service.Range, Depends(report_range)]
_RESPONSES = problem_responses(Unauthorized, Forbidden, InvalidInput)


@router.get("/volume", operation_id="reportVolume", responses=_RESPONSES)
async def report_volume(span: ReportRange, actor: CurrentAgent, conn: Transaction) -> VolumeReport:
    """Tickets created and resolved per day or week (staff)."""
    return await service.volume(conn, span)


@router.get("/backlog", operation_id="reportBacklog", responses=_RESPONSES)
async def report_backlog(
    span: ReportRange, actor: CurrentAgent, conn: Transaction
) -> BacklogReport:
    """Tickets open (neither resolved nor closed) at the end of each day or week (staff)."""
    return await service.backlog(conn, span)


@router.get("/durations", operation_id="reportDurations", responses=_RESPONSES)
async def report_durations(
    span: ReportRange, actor: CurrentAgent, conn: Transaction
) -> DurationsReport:
    """First response and resolution times in business hours: median and 90th
    percentile, each within 1 % of the exact figure (staff)."""
    return await service.durations(conn, span)


@router.get("/sla", operation_id="reportSla", responses=_RESPONSES)
async def report_sla(span: ReportRange, actor: CurrentAgent, conn: Transaction) -> SlaReport:
    """SLA targets met and missed, and the share met (staff)."""
    return await service.sla(conn, span)


@router.get("/csat", operation_id="reportCsat", responses=_RESPONSES)
async def report_csat(span: ReportRange, actor: CurrentAgent, conn: Transaction) -> CsatReport:
    """Satisfaction ratings, good and bad, and the score good / (good + bad) (staff)."""
    return await service.csat(conn, span)
