# PipelineRun now belongs to leads (leads 0002 took over its table): forget it here.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('pipeline', '0001_initial'),
        ('leads', '0002_pipelinerun_moved_from_pipeline'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='PipelineRun')],
            database_operations=[],
        ),
    ]
