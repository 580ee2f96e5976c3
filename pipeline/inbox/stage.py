"""The inbox stage: read each mailbox's new mail over IMAP, classify it, act on it once.

Each run reads only what arrived since the last UID it recorded for the folder; a
changed UIDVALIDITY makes it read the folder again from the start, and the unique
(mailbox, Message-ID) record keeps every effect from happening twice. Mail is fetched
and recorded in batches (one IMAP FETCH, a few queries per batch), and a run stops
fetching after INBOX_RUN_SECONDS: the rest is read by the next one. The team's mail is
never marked read, moved or deleted (imap.py opens the folder read-only).
"""

import logging
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from leads.models import InboxState
from outreach_site.logs import mask_email
from pipeline.inbox import effects, imap, mailboxes
from pipeline.inbox.classify import classify
from pipeline.inbox.imap import InboxCause, InboxError
from pipeline.progress import NO_PROGRESS, Progress
from pipeline.summary import StageSummary, Tally

logger = logging.getLogger(__name__)

BATCH_SIZE = 200  # messages per IMAP FETCH and per database transaction
STAGE = "check_inbox"


@dataclass(frozen=True, slots=True)
class InboxSummary(StageSummary):
    kinds: Mapping[str, int] = field(default_factory=dict)  # inbound kind -> messages newly recorded


def run(
    *, limit: int | None = None, dry_run: bool = False, progress: Progress = NO_PROGRESS, now: datetime | None = None
) -> InboxSummary:
    """Read every configured inbox's new mail (at most `limit` messages) and act on each message once.

    Raises InboxError when no inbox is configured or one cannot be read (after reading the others).
    """
    configured = mailboxes.inboxes()
    if not configured:
        raise InboxError("No inbox to read: set INBOX_URL", cause=InboxCause.CONFIG, permanent=True)
    now = now or timezone.now()
    tally = Tally(stage=STAGE, dry_run=dry_run)
    kinds: Counter = Counter()
    deadline = time.monotonic() + settings.INBOX_RUN_SECONDS
    failures: list[InboxError] = []
    for inbox in configured:
        remaining = None if limit is None else limit - tally.processed
        try:
            _read(inbox, tally, kinds, limit=remaining, deadline=deadline, progress=progress, now=now)
        except InboxError as exc:
            logger.warning("inbox not read", extra={"mailbox": inbox.mailbox, "cause": exc.cause, "error": str(exc)})
            failures.append(exc)
    if failures:
        raise failures[0] if len(failures) == 1 else InboxError("; ".join(map(str, failures)), cause=failures[0].cause)
    summary = tally.summary()
    return InboxSummary(**{f.name: getattr(summary, f.name) for f in fields(StageSummary)}, kinds=dict(kinds))


def _read(
    inbox: mailboxes.Inbox,
    tally: Tally,
    kinds: Counter,
    *,
    limit: int | None,
    deadline: float,
    progress: Progress,
    now: datetime,
) -> None:
    address = imap.Address.from_url(inbox.url, setting=inbox.setting)
    with imap.open_folder(address, timeout=settings.INBOX_TIMEOUT) as folder:
        state = _state(inbox.mailbox, address.folder, dry_run=tally.dry_run)
        if state.uidvalidity not in (None, folder.uidvalidity):
            # The server renumbered the folder: read it all again; recorded messages are not acted on twice.
            logger.warning("inbox uidvalidity changed", extra={"mailbox": inbox.mailbox, "folder": address.folder})
        uids = folder.uids_after(state.last_uid if state.uidvalidity == folder.uidvalidity else 0)
        complete = limit is None or len(uids) <= limit
        uids = uids if limit is None else uids[:limit]
        progress.start(len(uids), f"inbox {inbox.mailbox}")
        for start in range(0, len(uids), BATCH_SIZE):
            if time.monotonic() > deadline:
                logger.info("inbox run time box reached", extra={"mailbox": inbox.mailbox, "left": len(uids) - start})
                complete = False
                break
            chunk = uids[start : start + BATCH_SIZE]
            _read_batch(folder, chunk, inbox, address, state, tally, kinds, now=now)
            progress.advance(len(chunk))
        if complete and not tally.dry_run:
            _mark_read(state.pk, folder.uidvalidity, now=now)
    logger.info("inbox read", extra={"mailbox": inbox.mailbox, "messages": len(uids), "dry_run": tally.dry_run})


def _read_batch(folder, uids, inbox, address, state, tally, kinds, *, now) -> None:
    fetched = folder.fetch(uids)
    items = [effects.Incoming(classify(item.raw), item.uid, item.internal_date) for item in fetched]
    recorded = effects.record(
        items,
        mailbox=inbox.mailbox,
        folder=address.folder,
        now=now,
        dry_run=tally.dry_run,
        then=lambda: _advance(state.pk, folder.uidvalidity, uids[-1]),
    )
    tally.processed += len(items)
    tally.succeeded += sum(recorded.kinds.values())
    if recorded.already_recorded:
        tally.skipped["already_recorded"] += recorded.already_recorded
    kinds.update({str(kind): count for kind, count in recorded.kinds.items()})
    if tally.dry_run:
        tally.items.extend(_item(inbox.mailbox, row) for row in recorded.rows)


def _item(mailbox: str, row) -> dict:
    return {
        "mailbox": mailbox,
        "uid": row.uid,
        "kind": row.kind,
        "from": mask_email(row.sender),
        "lead": row.lead_id,
        "detail": row.detail[:120],
    }


def _state(mailbox: str, folder: str, *, dry_run: bool) -> InboxState:
    if dry_run:  # a dry run writes nothing, not even the reading position
        return InboxState.objects.filter(mailbox=mailbox, folder=folder).first() or InboxState(
            mailbox=mailbox, folder=folder
        )
    return InboxState.objects.get_or_create(mailbox=mailbox, folder=folder)[0]


def _advance(state_id: int, uidvalidity: int, uid: int) -> None:
    """Move the reading position forward (never back: another worker may be further on)."""
    InboxState.objects.filter(pk=state_id).exclude(Q(uidvalidity=uidvalidity) & Q(last_uid__gte=uid)).update(
        uidvalidity=uidvalidity, last_uid=uid
    )


def _mark_read(state_id: int, uidvalidity: int, *, now: datetime) -> None:
    """All new mail was read: record when (follow-ups wait while this is older than INBOX_MAX_AGE_MINUTES)."""
    changed = InboxState.objects.filter(pk=state_id).exclude(uidvalidity=uidvalidity)
    changed.update(uidvalidity=uidvalidity, last_uid=0)  # an empty folder renumbered: start again from 0
    InboxState.objects.filter(pk=state_id).update(last_read_at=now)
