from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("testapp", "0002_locking"),
    ]

    operations = [
        migrations.CreateModel(
            name="SecretTicket",
            fields=[],
            options={"proxy": True, "indexes": [], "constraints": []},
            bases=("testapp.ticket",),
        ),
    ]
