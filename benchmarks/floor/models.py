from django.db import models


class FloorCheckout(models.Model):
    """The one row a floor create inserts."""

    id = models.UUIDField(primary_key=True)
    stripe_session_id = models.CharField(max_length=255)
    internal_reference_id = models.CharField(max_length=200)
    amount_total = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.stripe_session_id
