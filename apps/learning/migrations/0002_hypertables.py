from django.db import migrations

from apps.core.timescale import CreateHypertable


class Migration(migrations.Migration):
    dependencies = [("learning", "0001_initial")]
    operations = [
        CreateHypertable("portfolio_snapshots", "time", segment_by="broker"),
        CreateHypertable("strategy_metrics", "time", segment_by="strategy_id"),
    ]
