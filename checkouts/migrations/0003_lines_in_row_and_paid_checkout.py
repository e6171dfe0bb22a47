# Lines move into the checkout row (one write per create), and a payable records its
# first paid checkout. The constraints that rely on this data come in 0004, in a
# transaction of their own (PostgreSQL refuses ALTER TABLE with pending FK checks).

import django.db.models.deletion
from django.db import migrations, models


def copy_lines_into_checkouts(apps, schema_editor):
    Checkout = apps.get_model("checkouts", "Checkout")
    CheckoutLine = apps.get_model("checkouts", "CheckoutLine")
    for checkout in Checkout.objects.iterator():
        checkout.lines = [
            {
                "article_type": line.article_type,
                "article_id": line.article_id,
                "name": line.name,
                "quantity": line.quantity,
                "unit_amount": line.unit_amount,
                "vat_rate": str(line.vat_rate),
            }
            for line in CheckoutLine.objects.filter(checkout=checkout).order_by("position")
        ]
        checkout.save(update_fields=["lines"])


def record_paid_checkouts_and_supersede_extra_open_ones(apps, schema_editor):
    Checkout = apps.get_model("checkouts", "Checkout")
    Payable = apps.get_model("checkouts", "Payable")
    for payable in Payable.objects.iterator():
        checkouts = Checkout.objects.filter(payable=payable)
        paid = (
            checkouts.filter(status="complete", payment_status__in=["paid", "no_payment_required"])
            .order_by("paid_at", "created_at")
            .first()
        )
        if paid is not None:
            payable.paid_checkout = paid
            payable.current_checkout = paid
            payable.save(update_fields=["paid_checkout", "current_checkout"])
        open_ones = list(
            checkouts.filter(status="open", superseded_by__isnull=True).order_by("-created_at")
        )
        newest = paid or (open_ones[0] if open_ones else None)
        for older in open_ones:
            if older.pk != newest.pk:
                older.superseded_by = newest
                older.superseded_at = newest.created_at
                older.stripe_expiry = "pending"
                older.save(update_fields=["superseded_by", "superseded_at", "stripe_expiry"])


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0001_initial"),
        ("checkouts", "0002_lifecycle"),
    ]

    operations = [
        # Frees the name `lines` on Checkout for the new field while the rows are copied.
        migrations.AlterField(
            model_name="checkoutline",
            name="checkout",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="checkouts.checkout",
            ),
        ),
        migrations.AddField(
            model_name="checkout",
            name="lines",
            field=models.JSONField(
                default=list, help_text="The articles as charged (CheckoutLine)."
            ),
        ),
        migrations.RunPython(copy_lines_into_checkouts, migrations.RunPython.noop),
        migrations.DeleteModel(name="CheckoutLine"),
        migrations.AddField(
            model_name="payable",
            name="paid_checkout",
            field=models.OneToOneField(
                blank=True,
                help_text="The first checkout of this payable that was paid.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="checkouts.checkout",
            ),
        ),
        migrations.RunPython(
            record_paid_checkouts_and_supersede_extra_open_ones, migrations.RunPython.noop
        ),
    ]
