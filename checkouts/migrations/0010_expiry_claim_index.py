"""expire_checkouts' claims: each kind of due checkout in a partial index of its own, keyed by
company and connected account then claim order, so a claim is an index scan with a LIMIT."""

from django.db import migrations, models

EXPIRY_PENDING = models.Q(stripe_expiry="pending")
OPEN_WITHOUT_PENDING_EXPIRY = models.Q(status="open") & ~models.Q(stripe_expiry="pending")


class Migration(migrations.Migration):
    dependencies = [("checkouts", "0009_admin_list_indexes")]

    operations = [
        migrations.AddIndex(
            model_name="checkout",
            index=models.Index(
                fields=["company", "connected_account_id", "created_at", "id"],
                condition=EXPIRY_PENDING,
                name="checkout_expiry_pending",
            ),
        ),
        migrations.AddIndex(
            model_name="checkout",
            index=models.Index(
                fields=["company", "connected_account_id", "expires_at", "id"],
                condition=OPEN_WITHOUT_PENDING_EXPIRY,
                name="checkout_open_by_expires_at",
            ),
        ),
        migrations.AddIndex(
            model_name="checkout",
            index=models.Index(
                fields=["company", "connected_account_id", "created_at", "id"],
                condition=OPEN_WITHOUT_PENDING_EXPIRY,
                name="checkout_open_by_created_at",
            ),
        ),
    ]
