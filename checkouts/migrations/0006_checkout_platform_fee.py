from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0002_payment_methods_and_platform_fee"),
        ("checkouts", "0005_webhook_rejected_and_redacted"),
    ]

    operations = [
        migrations.AddField(
            model_name="checkout",
            name="application_fee_amount",
            field=models.PositiveBigIntegerField(
                blank=True,
                help_text="The platform's fee sent to Stripe, in minor units; empty: none taken.",
                null=True,
            ),
        ),
        migrations.AddConstraint(
            model_name="checkout",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("application_fee_amount__isnull", True),
                    ("application_fee_amount__lte", models.F("amount_total")),
                    _connector="OR",
                ),
                name="checkout_fee_not_above_total",
            ),
        ),
    ]
