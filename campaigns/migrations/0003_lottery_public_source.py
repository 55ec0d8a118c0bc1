"""Lotteries name their public value when they open (issue 20, item 5). Lotteries that exist
already keep draw rule 1 (seed and public value) so their draws still verify; new ones use
rule 2 (seed, entrant list hash and public value)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0002_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="lotterydraw",
            name="draw_rule",
            field=models.PositiveSmallIntegerField(default=1),
        ),
        migrations.AlterField(
            model_name="lotterydraw",
            name="draw_rule",
            field=models.PositiveSmallIntegerField(default=2),
        ),
        migrations.AddField(
            model_name="lotterydraw",
            name="public_source",
            field=models.CharField(blank=True, max_length=200, verbose_name="public value source"),
        ),
        migrations.AddField(
            model_name="lotterydraw",
            name="public_value_at",
            field=models.DateTimeField(
                blank=True, null=True, verbose_name="public value published at"
            ),
        ),
    ]
