"""Addresses that must never be emailed, and the one key every address is compared by."""

import idna
from django.db import models


def address_key(address: str) -> str:
    """The canonical form two spellings of one address share: the domain in IDNA ASCII, lower-cased
    (`BÜCHER.example` and `xn--bcher-kva.example` alike), the local part case-folded. Computed here,
    not by the database, so it is the same on SQLite and PostgreSQL (SQLite's LOWER folds ASCII only)."""
    address = address.strip()
    local, at, domain = address.rpartition("@")
    if not at:
        return address.casefold()
    domain = domain.strip().rstrip(".")
    try:
        domain = idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError:
        domain = domain.casefold()  # not a name IDNA accepts: still compared, as written
    return f"{local.casefold()}@{domain.lower()}"


class SuppressionReason(models.TextChoices):
    UNSUBSCRIBED = "unsubscribed"
    DO_NOT_CONTACT = "do_not_contact", "Do not contact"
    BOUNCED = "bounced"
    COMPLAINED = "complained"


class Suppression(models.Model):
    """An address that must never be emailed, whatever lead row carries it."""

    address = models.CharField(max_length=320)
    address_key = models.CharField(
        max_length=320, default="", editable=False, help_text="address_key(address): compared."
    )
    reason = models.CharField(max_length=20, choices=SuppressionReason, default=SuppressionReason.DO_NOT_CONTACT)
    source = models.CharField(max_length=32, blank=True, help_text="Where it came from: one-click, link, admin, …")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "suppressed address"
        verbose_name_plural = "suppression list"
        constraints = [
            # One row per person, whatever the spelling (case, Unicode or punycode domain) of the address.
            models.UniqueConstraint(fields=["address_key"], name="suppression_address_key"),
        ]

    def __str__(self) -> str:
        return self.address

    def save(self, *args, **kwargs) -> None:
        # The key is this row's own address in canonical form, so it is set wherever a row is saved
        # (the admin's form, the unsubscribe page); bulk inserts set it themselves.
        self.address_key = address_key(self.address)
        super().save(*args, **kwargs)
