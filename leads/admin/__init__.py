"""The admin for people who review outreach: leads, the messages waiting for approval, why each
lead was skipped, what was sent and from which mailbox, what came back, and every pipeline run. One module per subject;
importing them registers each ModelAdmin."""

from leads.admin import emails, inbound, leads, mailboxes, review, runs, skips, suppression

__all__ = ["emails", "inbound", "leads", "mailboxes", "review", "runs", "skips", "suppression"]
