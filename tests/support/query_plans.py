"""What PostgreSQL did for a query: run it under EXPLAIN ANALYZE and find the work it did
beyond what it returned.

A query that an index serves in order reads about the rows it returns. One that has no
such index shows it in its plan, whatever the planner chose instead: a sequential scan,
an index walked while most of its rows are discarded, or a sort of many rows to return
a few. The thresholds are rows, never time.
"""

import re
from collections.abc import Iterator

from django.db import connection

# A bare COUNT(*) of a table or of a filter: one that a LIMIT inside does not bound.
UNBOUNDED_COUNT = re.compile(r"^SELECT COUNT\(\*\)(?!.* LIMIT \d+\) subquery$)", re.DOTALL)


def plan_of(sql: str) -> dict:
    """``sql``'s plan, with what each step actually did (the query is run)."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
        ((plan,),) = cursor.fetchall()
    return plan[0]["Plan"]


def steps(plan: dict) -> Iterator[dict]:
    yield plan
    for child in plan.get("Plans", []):
        yield from steps(child)


def excess_work(sql: str, *, tables: list[str], rows: int) -> list[str]:
    """The steps of ``sql``'s plan that read more of ``tables`` than about ``rows``: a
    sequential scan, a scan that discards more than ``rows`` rows, a sort of more than
    ``rows`` rows and (but in a count, which reads what it counts) a scan that returns
    more than ``rows`` rows."""
    found = []
    is_count = sql.startswith("SELECT COUNT(*)")
    for step in steps(plan_of(sql)):
        loops = step.get("Actual Loops", 1)
        table = step.get("Relation Name")
        kind = step["Node Type"]
        discarded = (
            step.get("Rows Removed by Filter", 0) + step.get("Rows Removed by Index Recheck", 0)
        ) * loops
        if table in tables and kind == "Seq Scan":
            found.append(f"Seq Scan on {table}")
        elif table in tables and discarded > rows:
            found.append(f"{kind} on {table} discarded {discarded} rows")
        elif table in tables and not is_count and step["Actual Rows"] * loops > rows:
            found.append(f"{kind} on {table} read {step['Actual Rows'] * loops} rows")
        if kind == "Sort" and step["Plans"][0]["Actual Rows"] > rows:
            found.append(f"Sort of {step['Plans'][0]['Actual Rows']} rows")
    return found
