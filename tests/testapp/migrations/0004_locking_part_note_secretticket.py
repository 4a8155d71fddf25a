from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("testapp", "0003_delete_shelves"),
    ]

    operations = [
        migrations.AddField(model_name="part", name="note", field=models.TextField(blank=True)),
        migrations.CreateModel(
            name="SecretTicket",
            fields=[],
            options={"proxy": True, "indexes": [], "constraints": []},
            bases=("testapp.ticket",),
        ),
    ]
