"""Where the last complete pull of an Airtable table began, so the next pull asks only for what changed."""

from django.db import models


class SyncCursor(models.Model):
    """One Airtable table as this app reads it (endpoint, base, table and field map)."""

    # endpoint|base|table: another base or table starts again with a full pull.
    source = models.CharField(max_length=500, unique=True)
    # The field map the pulls were read with; a changed map needs a full pull to fill the new fields.
    field_map = models.JSONField(default=dict)
    pulled_at = models.DateTimeField(help_text="When the last complete pull began (this app's clock).")
    full_pulled_at = models.DateTimeField(null=True, blank=True, help_text="When the last complete full pull began.")

    class Meta:
        verbose_name = "Airtable sync cursor"

    def __str__(self) -> str:
        return f"{self.source} pulled {self.pulled_at:%Y-%m-%d %H:%M}"
