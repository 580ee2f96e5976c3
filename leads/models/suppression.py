"""Addresses that must never be emailed."""

from django.db import models
from django.db.models.functions import Lower


class SuppressionReason(models.TextChoices):
    UNSUBSCRIBED = "unsubscribed"
    DO_NOT_CONTACT = "do_not_contact", "Do not contact"
    BOUNCED = "bounced"
    COMPLAINED = "complained"


class Suppression(models.Model):
    """An address that must never be emailed, whatever lead row carries it."""

    address = models.CharField(max_length=320)
    reason = models.CharField(max_length=20, choices=SuppressionReason, default=SuppressionReason.DO_NOT_CONTACT)
    source = models.CharField(max_length=32, blank=True, help_text="Where it came from: one-click, link, admin, …")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "suppressed address"
        verbose_name_plural = "suppression list"
        constraints = [
            # One row per person, whatever the case of the address.
            models.UniqueConstraint(Lower("address"), name="suppression_address_ci"),
        ]

    def __str__(self) -> str:
        return self.address
