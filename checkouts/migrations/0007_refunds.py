import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("checkouts", "0006_checkout_platform_fee"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Refund",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        default=uuid.uuid4, editable=False, primary_key=True, serialize=False
                    ),
                ),
                (
                    "stripe_refund_id",
                    models.CharField(blank=True, max_length=255, null=True, unique=True),
                ),
                ("amount", models.PositiveBigIntegerField(help_text="Minor units of the currency.")),
                ("currency", models.CharField(max_length=3)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("requested", "Requested (Stripe's answer not recorded yet)"),
                            ("refused", "Refused by Stripe (never made)"),
                            ("pending", "Pending"),
                            ("requires_action", "Requires action"),
                            ("succeeded", "Succeeded"),
                            ("failed", "Failed"),
                            ("canceled", "Canceled"),
                        ],
                        max_length=16,
                    ),
                ),
                (
                    "reason",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("requested_by_customer", "Requested by customer"),
                            ("duplicate", "Duplicate"),
                            ("fraudulent", "Fraudulent"),
                        ],
                        max_length=32,
                    ),
                ),
                ("comments", models.TextField(blank=True)),
                (
                    "source",
                    models.CharField(
                        choices=[
                            ("api", "API key"),
                            ("admin", "Staff, in the admin"),
                            ("stripe", "Made on Stripe (the Dashboard)"),
                        ],
                        max_length=8,
                    ),
                ),
                (
                    "refund_application_fee",
                    models.BooleanField(
                        default=False,
                        help_text="Whether the platform's fee was asked to be refunded too.",
                    ),
                ),
                (
                    "failure_reason",
                    models.CharField(blank=True, help_text="Stripe's.", max_length=64),
                ),
                ("error", models.TextField(blank=True, help_text="Why Stripe refused the request.")),
                (
                    "stripe_asked_at",
                    models.DateTimeField(
                        blank=True,
                        help_text="When this service last sent the request to Stripe.",
                        null=True,
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "checkout",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="refunds",
                        to="checkouts.checkout",
                    ),
                ),
                (
                    "requested_by_api_key",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="checkouts.companyapikey",
                    ),
                ),
                (
                    "requested_by_user",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at"],
                "indexes": [
                    models.Index(
                        fields=["status", "stripe_asked_at"], name="refund_status_asked_at"
                    )
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("amount__gt", 0)), name="refund_amount_positive"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            (
                                "status__in",
                                [
                                    "requested",
                                    "refused",
                                    "pending",
                                    "requires_action",
                                    "succeeded",
                                    "failed",
                                    "canceled",
                                ],
                            )
                        ),
                        name="refund_status_known",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("status__in", ["requested", "refused"]),
                            ("stripe_refund_id__isnull", False),
                            _connector="OR",
                        ),
                        name="refund_made_on_stripe_has_its_id",
                    ),
                ],
            },
        ),
        migrations.AddField(
            model_name="checkout",
            name="amount_refunded",
            field=models.PositiveBigIntegerField(
                default=0,
                help_text="Refunds Stripe made or is making (pending ones too), in minor units.",
            ),
        ),
        migrations.AddConstraint(
            model_name="checkout",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount_refunded__lte", models.F("amount_total"))),
                name="checkout_refunds_not_above_total",
            ),
        ),
        migrations.AddField(
            model_name="clientidempotencykey",
            name="refund",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="checkouts.refund",
            ),
        ),
        migrations.AddConstraint(
            model_name="clientidempotencykey",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("checkout__isnull", True), ("refund__isnull", True), _connector="OR"
                ),
                name="idempotency_key_made_one_thing",
            ),
        ),
    ]
