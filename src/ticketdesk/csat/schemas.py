"""Satisfaction rating shapes on the wire."""

from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, Field, StringConstraints

from ticketdesk.validation import RequestModel, no_nul

RatingValue = Literal["good", "bad"]
RatingComment = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=2000), AfterValidator(no_nul)
]
LinkToken = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class Satisfaction(BaseModel):
    """A ticket's latest rating round, as its submitter (their own) or staff see it."""

    rating: RatingValue | None = Field(description="good or bad; null until rated.")
    comment: str | None = Field(description="What the submitter added, if anything.")
    rated_at: AwareDatetime | None = Field(description="The first rating of this round.")
    changed_at: AwareDatetime | None = Field(description="The latest rating or comment.")
    changeable_until: AwareDatetime | None = Field(
        description="Until when the rating may be changed: 7 days after the first one."
    )
    can_rate: bool = Field(
        description="Whether the caller may rate (or change the rating) now: the submitter, "
        "while the ticket is resolved or closed and the window is open."
    )


class RatingRequest(RequestModel):
    """The submitter's rating of their resolved ticket."""

    rating: RatingValue
    comment: RatingComment | None = Field(
        default=None, description="Optional; empty or left out clears it."
    )


class LinkRatingRequest(RequestModel):
    """A rating from a mailed link: the link's token and the choice it carried."""

    token: LinkToken = Field(description="The secret from the mailed link.")
    rating: RatingValue


class LinkCommentRequest(RequestModel):
    """A comment on a rating made from a mailed link."""

    grant: LinkToken = Field(description="The comment_grant the rating answered with.")
    comment: RatingComment


class LinkRating(BaseModel):
    """What the rating page shows after a link was followed."""

    ticket_number: int
    ticket_title: str
    rating: RatingValue
    comment: str | None
    comment_grant: str = Field(
        description="Lets the rating's comment be written, without signing in, for an hour."
    )
