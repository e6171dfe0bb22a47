"""Paging through tables of millions of rows without counting them."""

from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property

# Up to this many rows a count is exact: reading them costs little.
EXACT_COUNT_UP_TO = 10_000


class EstimatedCountPaginator(Paginator):
    """A paginator whose count never reads more than ``EXACT_COUNT_UP_TO`` rows, and
    whose pages skip the rows before them in an index.

    On PostgreSQL the count is the planner's estimate (``pg_class.reltuples`` for a
    whole table, EXPLAIN's row estimate for a filtered one) unless that says fewer
    than ``EXACT_COUNT_UP_TO`` rows; those are counted, but only up to the limit, so a
    wrong estimate never turns into a scan. ``count_is_exact`` says which it was. On
    other databases (SQLite, the embedded default, with small tables) it counts.

    A page reads its rows' ids first, then those rows by id, so the rows it skips are
    skipped in the index that orders them, never read from the table or joined, and
    whatever the list computes per row (a subquery, a join) is computed for the page's
    rows only. Its ``object_list`` is a list. Pages past the middle are counted from the
    other end, so the deepest page is the middle one, and the last page holds the last
    rows even when the count is an estimate (pages near the middle may then overlap, or
    miss, as many rows as the estimate is off).
    """

    count_is_exact = True

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet) or connections[queryset.db].vendor != "postgresql":
            return super().count
        estimate = estimated_row_count(queryset)
        if estimate > EXACT_COUNT_UP_TO:
            self.count_is_exact = False
            return estimate
        counted = queryset.order_by()[: EXACT_COUNT_UP_TO + 1].count()
        # More than the estimate said: all that is known is that there are more.
        self.count_is_exact = counted <= EXACT_COUNT_UP_TO
        return counted

    def page(self, number) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        rows = self.object_list
        if not isinstance(rows, QuerySet):
            return self._get_page(rows[bottom:top], number, self)
        if bottom > self.count // 2 and rows.ordered:
            # Past the middle, counted from the other end: the shorter walk of the index.
            from_end = rows.reverse().values_list("pk", flat=True)
            ids = list(from_end[self.count - top : self.count - bottom])[::-1]
        else:
            ids = list(rows.values_list("pk", flat=True)[bottom:top])
        # Taken by id in no order, so that the filter's own index (which has the order)
        # never looks cheaper than fetching the page's rows by id; then put in order.
        by_id = rows.order_by().in_bulk(ids)
        return self._get_page([by_id[pk] for pk in ids], number, self)


def estimated_row_count(queryset: QuerySet) -> int:
    """PostgreSQL's estimate of the rows ``queryset`` returns: the table's row count as
    last analysed if it is the whole table, else the planner's."""
    query = queryset.query
    connection = connections[queryset.db]
    with connection.cursor() as cursor:
        if not (query.where or query.distinct or query.combinator or query.is_sliced):
            cursor.execute(
                "SELECT reltuples FROM pg_class WHERE oid = %s::regclass",
                [connection.ops.quote_name(queryset.model._meta.db_table)],
            )
            (tuples,) = cursor.fetchone()
            # -1: never analysed (a new table); the planner then guesses from its size.
            if tuples >= 0:
                return int(tuples)
        sql, params = query.sql_with_params()
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        ((plan,),) = cursor.fetchall()
    return int(plan[0]["Plan"]["Plan Rows"])
