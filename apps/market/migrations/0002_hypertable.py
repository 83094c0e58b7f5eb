from django.db import migrations

from apps.core.timescale import CreateHypertable


class Migration(migrations.Migration):
    dependencies = [("market", "0001_initial")]
    operations = [
        CreateHypertable("market_data", "time", segment_by="symbol,timeframe", chunk_interval="30 days")
    ]
