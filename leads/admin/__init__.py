"""The admin for people who review outreach: leads, why each was skipped, what was sent,
and every pipeline run. One module per subject; importing them registers each ModelAdmin."""

from leads.admin import emails, leads, runs, skips, suppression

__all__ = ["emails", "leads", "runs", "skips", "suppression"]
