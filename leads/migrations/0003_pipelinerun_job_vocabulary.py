# PipelineRun gets its own table name, and `job` a vocabulary: one name per job.
# The task used to record a "both ways" sync as sync_both and the command as sync.

from django.db import migrations, models

JOBS = ['pipeline', 'sync', 'sync_pull', 'sync_push', 'scrape', 'generate', 'engage']
# Schedules written by earlier releases name the task by its old module path.
OLD_TASK, NEW_TASK = 'pipeline.tasks.run_pipeline', 'pipeline.jobs.tasks.run_pipeline'


def forwards(apps, schema_editor):
    apps.get_model('leads', 'PipelineRun').objects.filter(job='sync_both').update(job='sync')
    apps.get_model('django_q', 'Schedule').objects.filter(func=OLD_TASK).update(func=NEW_TASK)


def backwards(apps, schema_editor):
    apps.get_model('django_q', 'Schedule').objects.filter(func=NEW_TASK).update(func=OLD_TASK)


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0002_pipelinerun_moved_from_pipeline'),
        ('pipeline', '0002_pipelinerun_moved_to_leads'),
        ('django_q', '0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more'),
    ]

    operations = [
        migrations.AlterModelTable(name='pipelinerun', table=None),
        migrations.RunPython(forwards, backwards),
        migrations.AlterField(
            model_name='pipelinerun',
            name='job',
            field=models.CharField(choices=[('pipeline', 'Pipeline'), ('sync', 'Sync'), ('sync_pull', 'Sync Pull'), ('sync_push', 'Sync Push'), ('scrape', 'Scrape'), ('generate', 'Generate'), ('engage', 'Engage')], max_length=32),
        ),
        migrations.AddConstraint(
            model_name='pipelinerun',
            constraint=models.CheckConstraint(condition=models.Q(('job__in', JOBS)), name='pipelinerun_job_known'),
        ),
    ]
