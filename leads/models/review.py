"""The review queue: leads whose message waits for a person, as their own admin list."""

from leads.models.lead import Lead


class MessageReview(Lead):
    """A lead seen as a message to review; the same row, no table of its own."""

    class Meta:
        proxy = True
        verbose_name = "message to review"
        verbose_name_plural = "review queue"
