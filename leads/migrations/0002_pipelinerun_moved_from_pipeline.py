# PipelineRun moves from the pipeline app to leads, so that pipeline/ holds no models.
# The table stays where it is here (state only); 0003 renames it. Existing rows are kept.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0001_initial'),
        ('pipeline', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='PipelineRun',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('job', models.CharField(max_length=32)),
                        ('dry_run', models.BooleanField(default=False)),
                        ('started_at', models.DateTimeField(auto_now_add=True)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                        ('outcome', models.CharField(choices=[('running', 'Running'), ('succeeded', 'Succeeded'), ('failed', 'Failed')], default='running', max_length=10)),
                        ('processed', models.PositiveIntegerField(default=0)),
                        ('succeeded', models.PositiveIntegerField(default=0)),
                        ('skipped', models.JSONField(blank=True, default=dict, help_text='Reason code -> count.')),
                        ('deferred', models.PositiveIntegerField(default=0)),
                        ('failed', models.PositiveIntegerField(default=0)),
                        ('error', models.TextField(blank=True)),
                    ],
                    options={
                        'db_table': 'pipeline_pipelinerun',
                        'ordering': ['-started_at', '-id'],
                        'constraints': [models.CheckConstraint(condition=models.Q(('outcome__in', ['running', 'succeeded', 'failed'])), name='pipelinerun_outcome_known')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterField(
            model_name='skiplog',
            name='run',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='skip_logs', to='leads.pipelinerun'),
        ),
    ]
