"""The test database: read whole, for guarantees about what is never stored, and named for
processes of its own (a server, a command)."""

from django.db import connection


def database_dump() -> str:
    """Every row of every table, as text."""
    rows = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - table names from the schema
            rows.extend(f"{table}: {row!r}" for row in cursor.fetchall())
    return "\n".join(rows)


def database_url() -> str:
    """The test database, for a server or a command in another process."""
    database = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{database['NAME']}"
    return f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
