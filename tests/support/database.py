"""The test database: read whole, for guarantees about what is never stored, named for
processes of its own (a server, a command), and made to refuse new checkouts."""

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


class refusing_new_checkout_rows:  # noqa: N801 - reads as a context, like transaction.atomic
    """A database trigger that refuses every new checkout row: a store that fails after the
    older checkout was already superseded in the same transaction."""

    def __enter__(self):
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "CREATE FUNCTION refuse_checkout() RETURNS trigger AS $$ BEGIN "
                    "RAISE EXCEPTION 'refused by the test'; END $$ LANGUAGE plpgsql"
                )
                cursor.execute(
                    "CREATE TRIGGER refuse_checkout BEFORE INSERT ON checkouts_checkout "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_checkout()"
                )
            else:
                cursor.execute(
                    "CREATE TRIGGER refuse_checkout BEFORE INSERT ON checkouts_checkout "
                    "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
                )
        return self

    def __exit__(self, *exc_info):
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER refuse_checkout" + _on_table())
            if connection.vendor == "postgresql":
                cursor.execute("DROP FUNCTION refuse_checkout()")


def _on_table() -> str:
    return " ON checkouts_checkout" if connection.vendor == "postgresql" else ""
