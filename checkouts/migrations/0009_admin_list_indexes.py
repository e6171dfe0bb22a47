"""The admin's lists at a million rows: an index per list and per filter, in list order.

On PostgreSQL each index is built CONCURRENTLY, so that creates and webhooks keep
writing to a big table while it is built (hence no transaction around this
migration); elsewhere (SQLite) it is a plain CREATE INDEX.
"""

from django.db import migrations, models


class AddIndexConcurrentlyOnPostgres(migrations.AddIndex):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.add_index(model, self.index, concurrently=True)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.remove_index(model, self.index, concurrently=True)


class Migration(migrations.Migration):

    atomic = False

    dependencies = [
        ('articles', '0002_payment_methods_and_platform_fee'),
        ('checkouts', '0008_payment_log_index'),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name='checkout',
            index=models.Index(fields=['created_at', 'id'], name='checkout_created'),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name='checkout',
            index=models.Index(fields=['payment_status', 'created_at', 'id'], name='checkout_paystate_created'),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name='checkout',
            index=models.Index(fields=['ui_mode', 'created_at', 'id'], name='checkout_ui_mode_created'),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name='checkout',
            index=models.Index(condition=models.Q(('amount_refunded__gt', 0), ('amount_refunded__lt', models.F('amount_total'))), fields=['created_at', 'id'], name='checkout_partly_refunded'),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name='checkout',
            index=models.Index(condition=models.Q(('amount_refunded', models.F('amount_total')), ('amount_refunded__gt', 0)), fields=['created_at', 'id'], name='checkout_fully_refunded'),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name='checkout',
            index=models.Index(condition=models.Q(models.Q(('payment_status__in', ('paid', 'no_payment_required')), ('status', 'complete'), ('superseded_by__isnull', False)), models.Q(('stripe_expiry', 'pending'), ('stripe_expiry_attempts__gt', 0)), _connector='OR'), fields=['created_at', 'id'], name='checkout_needs_attention'),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name='payable',
            index=models.Index(fields=['created_at', 'id'], name='payable_created'),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name='payable',
            index=models.Index(fields=['company', 'created_at', 'id'], name='payable_company_created'),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name='webhookdelivery',
            index=models.Index(fields=['received_at', 'id'], name='delivery_received'),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name='webhookdelivery',
            index=models.Index(fields=['outcome', 'received_at', 'id'], name='delivery_outcome_received'),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name='webhookdelivery',
            index=models.Index(fields=['event_type', 'received_at', 'id'], name='delivery_type_received'),
        ),
    ]
