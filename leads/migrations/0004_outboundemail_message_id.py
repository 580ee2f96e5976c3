# Our Message-ID gets its own column, stored before sending; provider_message_id is left
# for an ESP's own id. Emails sent by earlier releases kept our Message-ID in
# provider_message_id: it moves to message_id.

from django.db import migrations, models


def forwards(apps, schema_editor):
    OutboundEmail = apps.get_model('leads', 'OutboundEmail')
    OutboundEmail.objects.exclude(provider_message_id='').update(message_id=models.F('provider_message_id'), provider_message_id='')


def backwards(apps, schema_editor):
    OutboundEmail = apps.get_model('leads', 'OutboundEmail')
    OutboundEmail.objects.filter(provider_message_id='').update(provider_message_id=models.F('message_id'))


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0003_pipelinerun_job_vocabulary'),
    ]

    operations = [
        migrations.AddField(
            model_name='outboundemail',
            name='message_id',
            field=models.CharField(blank=True, help_text='Ours, `<…@domain>`, stored before the email is sent.', max_length=255, verbose_name='Message-ID'),
        ),
        migrations.AlterField(
            model_name='outboundemail',
            name='provider_message_id',
            field=models.CharField(blank=True, help_text="The ESP's own id for the email, when it gives one that differs.", max_length=255),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.AddConstraint(
            model_name='outboundemail',
            constraint=models.UniqueConstraint(condition=models.Q(('message_id', ''), _negated=True), fields=('message_id',), name='outboundemail_message_id_unique'),
        ),
    ]
