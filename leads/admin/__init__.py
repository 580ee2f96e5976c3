"""The admin for people who review outreach: leads, why each was skipped, what was sent,
what came back, and every pipeline run. One module per subject; importing them registers each ModelAdmin."""

from leads.admin import emails, inbound, leads, runs, skips, suppression

__all__ = ["emails", "inbound", "leads", "runs", "skips", "suppression"]
