from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation


class StrictFormatNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, except that an unknown ``?format=`` is a 406, not a bare 404."""

    def filter_renderers(self, renderers, format):
        matching = [renderer for renderer in renderers if renderer.format == format]
        if not matching:
            known = ", ".join(renderer.format for renderer in renderers)
            raise NotAcceptable(f"Unknown format {format!r}; use one of: {known}.")
        return matching
