"""What the API's OpenAPI 3 schema says, beyond what drf-spectacular reads from the code.

The serializers give the fields (with the descriptions of BokaMera's documentation as
``help_text``), and ``SPECTACULAR_SETTINGS`` the API's description. Here:

- ``operations``: each operation's summary, parameters, examples and the errors it can
  raise, as ``extend_schema`` decorators for the views;
- ``error_responses``: error responses built from the error handler's table, and the
  errors that several operations share;
- ``parameters``: parameters and response headers that several operations share;
- ``examples``: example requests and answers, rendered by the API's own renderers;
- ``components``: the DTOs that only the documentation needs (``ErrorResponse``...);
- ``extensions``: the ``X-Api-Key`` security scheme and what drf-spectacular leaves out
  of nested lists;
- ``hooks``: the hooks of ``SPECTACULAR_SETTINGS``.

``checkouts/api/docs.py`` serves the schema.
"""

# drf-spectacular applies an extension once it is imported.
from checkouts.api.schema import extensions  # noqa: F401
