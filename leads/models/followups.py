"""Follow-up messages written ahead: one per lead and touch (2, 3, …), sent in touch 1's thread."""

from django.db import models
from django.db.models import Q

from leads.models.lead import Lead, MessageSource


class FollowUpMessage(models.Model):
    """The body of one follow-up, written by the generator before it is due (the subject is touch 1's, `Re: `)."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="followups")
    touch = models.PositiveSmallIntegerField(help_text="2 = the first follow-up")
    body = models.TextField()
    source = models.CharField(max_length=10, choices=MessageSource, default=MessageSource.AI)
    # {"written_from": {source name: text}, "check": …, "claims": […], "problems": […]}: as a lead's message_evidence.
    evidence = models.JSONField(default=dict, blank=True)
    generated_at = models.DateTimeField()
    # With OUTREACH_APPROVAL=all a follow-up waits for a person as touch 1 does; writing it again clears this.
    approved_at = models.DateTimeField(null=True, blank=True, help_text="When a person approved this follow-up.")

    class Meta:
        ordering = ["lead", "touch"]
        constraints = [
            # The generator writes each follow-up once, however many generators run at a time.
            models.UniqueConstraint(fields=["lead", "touch"], name="followupmessage_one_per_touch"),
            models.CheckConstraint(condition=Q(touch__gte=2), name="followupmessage_is_a_follow_up"),
            models.CheckConstraint(condition=Q(source__in=MessageSource.values), name="followupmessage_source_known"),
        ]

    def __str__(self) -> str:
        return f"touch {self.touch} for lead {self.lead_id}"
