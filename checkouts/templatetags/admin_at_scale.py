"""The admin's date drill-down, read off an index instead of every row.

Django's ``date_hierarchy`` tag lists the years, months or days that have rows with
``SELECT DISTINCT`` over the whole filtered list (a scan of a million checkouts), and
starts from ``MIN``/``MAX`` aggregates that PostgreSQL cannot take from an index once
a search joins another table. This one asks for the first row on or after a date, in
date order, a LIMIT 1 that an index on the date answers by itself, and jumps from one
year, month or day that has rows to the next: one probe per choice shown (and one to
find there are no more), however many rows there are.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django import template
from django.conf import settings
from django.contrib.admin.views.main import ChangeList
from django.db.models import QuerySet
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

register = template.Library()


@dataclass(frozen=True)
class Period:
    """Years, months or days: the one a date falls in, and the one after it."""

    of: Callable[[datetime.date], datetime.date]
    after: Callable[[datetime.date], datetime.date]


YEAR = Period(
    of=lambda day: day.replace(month=1, day=1),
    after=lambda day: day.replace(year=day.year + 1, month=1, day=1),
)
MONTH = Period(
    of=lambda day: day.replace(day=1),
    after=lambda day: (day.replace(day=1) + datetime.timedelta(days=32)).replace(day=1),
)
DAY = Period(of=lambda day: day, after=lambda day: day + datetime.timedelta(days=1))


@register.inclusion_tag("admin/date_hierarchy.html")
def date_hierarchy_by_probes(cl: ChangeList) -> dict:
    """What Django's ``date_hierarchy`` shows, found with a probe per choice."""
    field = cl.date_hierarchy
    year_field, month_field, day_field = f"{field}__year", f"{field}__month", f"{field}__day"
    year, month, day = (cl.params.get(name) for name in (year_field, month_field, day_field))
    queryset = cl.queryset

    def link(filters: dict) -> str:
        return cl.get_query_string(filters, [f"{field}__"])

    first_year = last_year = None
    if not (year or month or day):
        # As Django does: start at the level that has more than one choice.
        first = queryset.order_by(field).values_list(field, flat=True).first()
        if first is None:
            return {"show": True, "back": None, "choices": []}
        last = queryset.order_by(f"-{field}").values_list(field, flat=True).first()
        first, last = local(first), local(last)
        first_year, last_year = first.year, last.year
        if first.year == last.year:
            year = first.year
            if first.month == last.month:
                month = first.month

    if year and month and day:
        shown = datetime.date(int(year), int(month), int(day))
        return {
            "show": True,
            "back": {
                "link": link({year_field: year, month_field: month}),
                "title": capfirst(formats.date_format(shown, "YEAR_MONTH_FORMAT")),
            },
            "choices": [{"title": capfirst(formats.date_format(shown, "MONTH_DAY_FORMAT"))}],
        }
    if year and month:
        year, month = int(year), int(month)
        start = datetime.date(year, month, 1)
        days = periods_with_rows(queryset, field, start, MONTH.after(start), DAY)
        return {
            "show": True,
            "back": {"link": link({year_field: year}), "title": str(year)},
            "choices": [
                {
                    "link": link({year_field: year, month_field: month, day_field: shown.day}),
                    "title": capfirst(formats.date_format(shown, "MONTH_DAY_FORMAT")),
                }
                for shown in days
            ],
        }
    if year:
        start = datetime.date(int(year), 1, 1)
        months = periods_with_rows(queryset, field, start, YEAR.after(start), MONTH)
        return {
            "show": True,
            "back": {"link": link({}), "title": _("All dates")},
            "choices": [
                {
                    "link": link({year_field: shown.year, month_field: shown.month}),
                    "title": capfirst(formats.date_format(shown, "YEAR_MONTH_FORMAT")),
                }
                for shown in months
            ],
        }
    start, end = datetime.date(first_year, 1, 1), datetime.date(last_year + 1, 1, 1)
    years = periods_with_rows(queryset, field, start, end, YEAR)
    return {
        "show": True,
        "back": None,
        "choices": [
            {"link": link({year_field: str(shown.year)}), "title": str(shown.year)}
            for shown in years
        ],
    }


def periods_with_rows(
    queryset: QuerySet, field: str, start: datetime.date, end: datetime.date, period: Period
) -> list[datetime.date]:
    """The first days of the years, months or days (``period``) from ``start`` up to
    ``end`` in which ``queryset`` has rows: each found by asking for the first row on or
    after the end of the one before, so that empty periods cost nothing."""
    found = []
    while start < end:
        first = (
            queryset.filter(**{f"{field}__gte": midnight(start), f"{field}__lt": midnight(end)})
            .order_by(field)
            .values_list(field, flat=True)
            .first()
        )
        if first is None:
            break
        found.append(period.of(local(first).date()))
        start = period.after(found[-1])
    return found


def local(moment: datetime.datetime) -> datetime.datetime:
    return timezone.localtime(moment) if settings.USE_TZ else moment


def midnight(day: datetime.date) -> datetime.datetime:
    """The start of ``day`` in the current time zone, as the hierarchy's own filter
    reads its dates."""
    start = datetime.datetime.combine(day, datetime.time())
    return timezone.make_aware(start) if settings.USE_TZ else start
