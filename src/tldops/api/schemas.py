"""Schemas shared by several routers: errors, ccTLD references, phones, memberships, pagination.

Input bounds (``max_length``) come from the constants of :mod:`tldops.directory.validation`, so
the OpenAPI document states the limits every door applies; a body beyond them is refused with 422
before it reaches an action, which checks the same limits again for the other doors.
"""

from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Annotated, Any

from django.db.models import QuerySet
from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination
from ninja.schema import DjangoGetter
from pydantic import ConfigDict, model_validator

from tldops.catalog.models import Tld
from tldops.directory.models import Membership, Phone
from tldops.directory.validation import (
    LANGUAGE_MAX_LENGTH,
    PHONE_LABEL_MAX_LENGTH,
    PHONE_MAX_LENGTH,
    format_phone,
)


class InputSchema(Schema):
    """A request body: a JSON object with only the documented fields (a typo is a 422, not a
    silently ignored field)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _json_object_only(cls, data: Any) -> Any:
        # ninja schemas read attributes of any object; a request body must be a JSON object.
        raw = data._obj if isinstance(data, DjangoGetter) else data
        if not isinstance(raw, dict | cls):
            raise ValueError("expected a JSON object")
        return data


class ErrorOut(Schema):
    """Every error has this shape, whatever its status."""

    detail: str = Field(description="What went wrong and what to do about it, for a person.")
    field: str | None = Field(
        None, description="The input at fault (e.g. `phone`, `tld`, `contacts`), when there is one."
    )
    errors: list[dict[str, Any]] | None = Field(
        None,
        description=(
            "Every problem, when there are several or one is about an item of a list: for 422 "
            "each schema violation as pydantic reports it; for 400 and 409 "
            "`{detail, field, index}`, `index` being the item (e.g. the contact, from 0)."
        ),
    )


def errors(*codes: int) -> dict[int, type[ErrorOut]]:
    """Response declarations for the error statuses an endpoint can answer with; every one may
    answer 414 (a query string over :mod:`tldops.web.limits`' bound, refused before the endpoint)."""
    return dict.fromkeys((*codes, 414), ErrorOut)


AUTH_ERRORS = (401, 403, 422)


class MessageOut(Schema):
    detail: str = Field(description="A sentence for a person.")


class TldRef(Schema):
    """How a ccTLD is named everywhere in the API."""

    alabel: str = Field(description="A-label, the ASCII key (`fr`, `xn--p1ai`).")
    ulabel: str = Field(description="U-label, as people write it (`fr`, `рф`).")
    display: str = Field(description="What to show: `.fr`, or `.рф (xn--p1ai)` for IDNs.")


class PhoneOut(Schema):
    number: str = Field(description="E.164, e.g. `+33123456789`.")
    label: str = Field(description="office, mobile, 24/7 or other.")
    display: str = Field(description="The number in international format, for reading.")

    @staticmethod
    def resolve_display(obj: Phone) -> str:
        return phone_display(obj.number)


@lru_cache(maxsize=65536)
def phone_display(e164: str) -> str:
    """:func:`~tldops.directory.validation.format_phone`, remembered: formatting costs a parse, and
    the directory listing shows every member's numbers on every call."""
    return format_phone(e164)


class PhoneIn(InputSchema):
    number: str = Field(
        description="In international form (`+33 1 23 45 67 89`); a national number is read in the "
        "ccTLD's country.",
        examples=["+33 1 23 45 67 89"],
        max_length=PHONE_MAX_LENGTH,
    )
    label: str = Field(
        "office",
        description="office, mobile, 24/7 or other.",
        max_length=PHONE_LABEL_MAX_LENGTH,
    )


#: A language as a request names it: an ISO 639 code (or a language's English name).
Language = Annotated[str, Field(max_length=LANGUAGE_MAX_LENGTH)]


class MembershipOut(Schema):
    """A person's place as a contact of one ccTLD."""

    id: int = Field(description="Membership id (used to remove a contact).")
    tld: TldRef
    number: int = Field(description="Contact number within the ccTLD (1, 2, 3 …).")
    status: str = Field(description="pending (awaiting confirmation), active, removed or left.")
    authorised_at: datetime
    confirmed_at: datetime | None
    ended_at: datetime | None


def tld_ref(tld: Tld) -> dict[str, str]:
    return {"alabel": tld.alabel, "ulabel": tld.ulabel, "display": tld.display}


def membership_out(m: Membership) -> dict[str, Any]:
    return {
        "id": m.pk,
        "tld": tld_ref(m.tld),
        "number": m.number,
        "status": m.status,
        "authorised_at": m.authorised_at,
        "confirmed_at": m.confirmed_at,
        "ended_at": m.ended_at,
    }


class Pagination(LimitOffsetPagination):
    """``limit`` (1–1000, default 100) and ``offset``; answers ``{"items": […], "count": n}``."""

    class Input(Schema):
        limit: int = Field(
            100, ge=1, le=1000, description="How many items to return (at most 1000)."
        )
        offset: int = Field(0, ge=0, le=10_000_000, description="How many items to skip.")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_limit=1000, **kwargs)


class Shaped:
    """A query for :class:`Pagination` whose rows are shaped into dicts: it counts and slices the
    query, then shapes only the page's rows."""

    def __init__(self, rows: QuerySet, shape: Callable[[Any], dict[str, Any]]) -> None:
        self.rows = rows
        self.shape = shape

    def __len__(self) -> int:
        return self.rows.count()

    def count(self) -> int:
        return self.rows.count()

    def __getitem__(self, index: slice) -> list[dict[str, Any]]:
        return [self.shape(row) for row in self.rows[index]]
