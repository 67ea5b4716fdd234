from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Heartbeat",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("scheduled_at", models.DateTimeField(blank=True, null=True)),
                ("ran_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                ("worker", models.CharField(max_length=200)),
            ],
            options={"ordering": ["-ran_at"]},
        ),
    ]
