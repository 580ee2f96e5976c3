"""The sequence's rules: which touch is next, when it is due, what ends it, and the thread it answers."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from leads.models import InboundMessage, Lead, OutboundEmail, Suppression
from pipeline import sequence
from pipeline.engage import stops, thread
from tests.builders import make_lead
from tests.inbox.mail import sent_email

SENT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def test_touch_2_is_due_the_first_delay_after_touch_1_and_touch_3_the_second_after_touch_2():
    two = sequence.next_touch(sent_touch=1, sent_at=SENT, days=[3, 5], zone=UTC)
    three = sequence.next_touch(sent_touch=2, sent_at=SENT, days=[3, 5], zone=UTC)
    assert (two.touch, two.at) == (2, SENT + timedelta(days=3))
    assert (three.touch, three.at) == (3, SENT + timedelta(days=5))
    assert not two.is_due(SENT + timedelta(days=3, seconds=-1))
    assert two.is_due(SENT + timedelta(days=3))


def test_no_touch_beyond_the_sequence():
    assert sequence.next_touch(sent_touch=3, sent_at=SENT, days=[3, 5], zone=UTC) is None
    assert sequence.next_touch(sent_touch=1, sent_at=SENT, days=[], zone=UTC) is None


def test_an_auto_replys_return_date_holds_the_next_touch_until_the_day_after():
    later = sequence.next_touch(sent_touch=1, sent_at=SENT, days=[3], returns_on=date(2026, 12, 9), zone=UTC)
    assert later.at == datetime(2026, 12, 10, tzinfo=UTC)
    earlier = sequence.next_touch(sent_touch=1, sent_at=SENT, days=[3], returns_on=date(2026, 12, 1), zone=UTC)
    assert earlier.at == SENT + timedelta(days=3)


def _email(touch, message_id, **fields):
    return OutboundEmail(touch=touch, message_id=message_id, subject=f"subject {touch}", mailbox="sales", **fields)


def test_a_follow_up_answers_the_previous_touch_and_references_every_earlier_one():
    earlier = [_email(2, "<b@x.example>"), _email(1, "<a@x.example>", provider_message_id="<esp-1@esp.example>")]
    found = thread.thread_of(earlier)
    assert found.subject == "Re: subject 1"
    assert found.mailbox == "sales"
    assert found.headers == {
        "In-Reply-To": "<b@x.example>",
        "References": "<a@x.example> <esp-1@esp.example> <b@x.example>",
    }


def test_an_esp_id_that_is_no_message_id_is_left_out_of_the_references():
    found = thread.thread_of([_email(1, "<a@x.example>", provider_message_id="0102018c-esp-id")])
    assert found.references == ("<a@x.example>",)


def test_without_touch_1_there_is_no_thread_to_answer():
    assert thread.thread_of([]) is None
    assert thread.thread_of([_email(2, "<b@x.example>")]) is None


@pytest.mark.django_db
class TestStops:
    def _contacted(self, **fields):
        lead = make_lead(engagement_status="Contacted", **fields)
        return lead, sent_email(lead)

    def _inbound(self, email, kind, **fields):
        return InboundMessage.objects.create(
            mailbox="default",
            message_id=f"<in-{kind}-{email.pk}-{len(fields)}@x.example>",
            kind=kind,
            lead=email.lead,
            email=email,
            address=email.recipient,
            sender=fields.pop("sender", email.recipient),
            received_at=fields.pop("received_at", timezone.now()),
            **fields,
        )

    def test_each_answer_and_decision_ends_the_sequence_with_its_reason(self, settings):
        settings.OUTREACH_STOP_ON_AUTO_REPLY = False
        self._contacted()  # quiet: nothing ends it
        replied, email = self._contacted()
        self._inbound(email, "reply")
        bounced, email = self._contacted()
        self._inbound(email, "bounce_hard", sender="mailer-daemon@mx.example")
        complained, email = self._contacted()
        self._inbound(email, "complaint", sender="fbl@isp.example")
        unsubscribed, email = self._contacted()
        self._inbound(email, "unsubscribe")
        away, email = self._contacted()
        self._inbound(email, "auto_reply")
        soft, email = self._contacted()
        self._inbound(email, "bounce_soft", sender="mailer-daemon@mx.example")
        suppressed, _ = self._contacted(email="Gone@Example.com")
        Suppression.objects.create(address="gone@example.com", reason="do_not_contact")
        booked, _ = self._contacted()
        Lead.objects.filter(pk=booked.pk).update(engagement_status="Meeting booked")
        leads = Lead.objects.order_by("pk")
        found = {lead_id: stop.reason for lead_id, stop in stops.find(leads).items()}
        assert found == {
            replied.pk: "replied",
            bounced.pk: "bounced",
            complained.pk: "complained",
            unsubscribed.pk: "unsubscribed",
            suppressed.pk: "status_changed",
            booked.pk: "status_changed",
        }

    def test_an_auto_reply_stops_only_when_asked_to(self, settings):
        lead, email = self._contacted()
        self._inbound(email, "auto_reply")
        settings.OUTREACH_STOP_ON_AUTO_REPLY = True
        assert stops.find([lead])[lead.pk].reason == "auto_replied"

    def test_a_reply_from_the_address_on_another_lead_row_stops_this_one_too(self):
        lead, _ = self._contacted(email="ada@engines.example")
        other, email = self._contacted(email="ADA@engines.example")
        self._inbound(email, "reply")
        assert stops.find([lead])[lead.pk].reason == "replied"

    def test_the_first_answer_is_the_reason_and_it_is_counted_once_over_all_runs(self):
        lead, email = self._contacted()
        self._inbound(email, "reply", received_at=timezone.now() - timedelta(hours=2))
        self._inbound(email, "unsubscribe")
        found = stops.find([lead])
        assert found[lead.pk].reason == "replied"
        now = timezone.now()
        assert stops.record(found, now=now) == {"replied": 1}
        assert stops.record(found, now=now) == {}
        lead.refresh_from_db()
        assert (lead.sequence_stop_reason, lead.sequence_stopped_at) == ("replied", now)

    def test_the_checks_cost_the_same_few_queries_for_any_batch(self, django_assert_max_num_queries):
        leads = [self._contacted()[0] for _ in range(30)]
        with django_assert_max_num_queries(2):
            stops.find(leads)
