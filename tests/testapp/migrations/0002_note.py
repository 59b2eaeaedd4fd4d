from django.db import migrations, models

import djangoes.documents


class Migration(migrations.Migration):
    dependencies = [("testapp", "0001_initial")]

    operations = [
        migrations.CreateModel(
            name="Note",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("slug", models.CharField(blank=True, max_length=1000, null=True)),
                ("text", models.CharField(blank=True, max_length=200)),
                ("score", models.FloatField(default=0.0)),
            ],
            bases=(djangoes.documents.SearchDocumentMixin, models.Model),
        ),
    ]
