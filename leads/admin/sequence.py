"""A lead's sequence on its page: each touch sent, due or never to be sent, and what stopped it."""

from django.conf import settings
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from leads.models import Lead
from pipeline import sequence


def rows(lead: Lead) -> list[tuple[int, str]]:
    """(touch, what happened or will) for every touch of the lead's sequence, in order."""
    days = settings.OUTREACH_FOLLOWUP_DAYS
    emails = {email.touch: email for email in lead.emails.order_by("touch")}
    found = []
    for touch in range(1, max(sequence.last_touch(days), max(emails, default=0)) + 1):
        email = emails.get(touch)
        if email is not None:
            when = email.sent_at or email.created_at
            found.append((touch, f"{email.status} {timezone.localtime(when):%Y-%m-%d %H:%M} from {email.mailbox}"))
            continue
        if lead.sequence_stop_reason:
            stopped = timezone.localtime(lead.sequence_stopped_at) if lead.sequence_stopped_at else None
            on = f" on {stopped:%Y-%m-%d}" if stopped else ""
            found.append((touch, f"not sent: the sequence stopped ({lead.sequence_stop_reason}){on}"))
            continue
        previous = emails.get(touch - 1)
        if previous is not None and previous.sent_at is not None:
            back = sequence.returns_by_lead([lead.pk]).get(lead.pk)
            due = sequence.next_touch(
                sent_touch=touch - 1,
                sent_at=previous.sent_at,
                days=days,
                returns_on=back,
                zone=timezone.get_current_timezone(),
            )
            note = f" (after the auto-reply's return date {back:%Y-%m-%d})" if back and due.at.date() > back else ""
            found.append((touch, f"due {timezone.localtime(due.at):%Y-%m-%d %H:%M}{note}"))
        elif touch > 1:
            found.append((touch, f"{days[touch - 2]} days after touch {touch - 1}"))
        else:
            found.append((touch, "not sent yet"))
    return found


def summary(lead: Lead) -> SafeString:
    """The sequence as a short list, for the lead's page, with each follow-up written ahead and not yet sent."""
    if lead.pk is None:
        return format_html("{}", "-")
    sent = set(lead.emails.values_list("touch", flat=True))
    ahead = {row.touch: row for row in lead.followups.all() if row.touch not in sent}
    listed = format_html_join(
        "",
        "<li>Touch {}: {}{}</li>",
        (
            (
                touch,
                text,
                format_html("<br>written ahead ({}): <q>{}</q>", ahead[touch].get_source_display(), ahead[touch].body)
                if touch in ahead
                else "",
            )
            for touch, text in rows(lead)
        ),
    )
    stop = ""
    if lead.sequence_stop_reason:
        stop = format_html("<p>Stopped: <strong>{}</strong></p>", lead.get_sequence_stop_reason_display())
    return format_html("{}<ul>{}</ul>", stop, listed)
