"""What an edit made in the admin means for the sync, and how the admin says which fields are Airtable's.

A pushed field (status, message, date messaged, skip reason) edited here is
written to Airtable by the next push; until then a pull keeps the local value.
Any other field a pull writes (address, name, company, …) keeps the local value
until that field changes in Airtable, and then takes Airtable's.
"""

from collections.abc import Iterable

from leads.models import Lead
from pipeline.airtable.fields import PULLED, PUSHED, FieldMap


def note_admin_edit(lead: Lead, *, changed: Iterable[str]) -> None:
    """Mark `lead` (before it is saved) for the fields a person changed: pushed ones to push, others to keep."""
    refs = FieldMap.from_settings().refs
    changed = {name for name in changed if name in refs}
    if changed & set(PUSHED):
        lead.pending_push = True
    kept = changed & (set(PULLED) - set(PUSHED))
    if kept:
        lead.local_edits = sorted(set(lead.local_edits) | kept)


def field_notes() -> dict[str, str]:
    """Lead field -> one line naming its Airtable field and what an edit here does to it."""
    notes = {}
    for name, ref in FieldMap.from_settings().refs.items():
        if name in PUSHED:
            notes[name] = f"Airtable's field {ref!r}: an edit here is written to Airtable by the next push."
        elif name in PULLED:
            notes[name] = f"Airtable's field {ref!r}: an edit here is kept until the field changes in Airtable."
    return notes
