# The database refuses a second open checkout per payable, and a paid payable
# pointing anywhere but its paid checkout.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("checkouts", "0003_lines_in_row_and_paid_checkout"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="checkout",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "open"), ("superseded_by__isnull", True)),
                fields=("payable",),
                name="one_open_checkout_per_payable",
            ),
        ),
        migrations.AddConstraint(
            model_name="payable",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("paid_checkout__isnull", True),
                    ("current_checkout", models.F("paid_checkout")),
                    _connector="OR",
                ),
                name="paid_payable_stays_on_its_paid_checkout",
            ),
        ),
    ]
