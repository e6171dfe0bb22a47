from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("checkouts", "0007_refunds")]

    operations = [
        migrations.AddIndex(
            model_name="checkout",
            index=models.Index(
                fields=["company", "created_at", "id"], name="checkout_company_created"
            ),
        ),
    ]
