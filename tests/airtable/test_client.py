"""The Airtable client against a fake Airtable over real HTTP: configuration, errors, retries, pacing, formulas."""

import contextlib
import logging
import subprocess
import sys
import threading
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from pyairtable.formulas import NE, Field

from pipeline.airtable import client as airtable
from pipeline.airtable import fields, pacing
from tests.fakes.airtable import FakeAirtable, renamed_settings, use
from tests.processes import PROJECT_DIR, free_port


def _all(client: airtable.ConfigurableAirtableClient) -> list[airtable.Record]:
    return [record for page in client.iter_records() for record in page]


def test_missing_configuration_names_every_missing_variable(settings):
    settings.AIRTABLE_API_KEY = ""
    settings.AIRTABLE_BASE_ID = ""
    settings.AIRTABLE_TABLE_NAME = "Leads"
    with pytest.raises(airtable.AirtableError, match="set AIRTABLE_API_KEY, AIRTABLE_BASE_ID$") as caught:
        airtable.ConfigurableAirtableClient.from_settings()
    assert caught.value.cause == "config"


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        ("AIRTABLE_API_KEY", "patWrongToken00001.0123456789", "check AIRTABLE_API_KEY"),
        ("AIRTABLE_BASE_ID", "appNoSuchBase0001", "check AIRTABLE_BASE_ID"),
        ("AIRTABLE_TABLE_NAME", "Leeds", "check AIRTABLE_TABLE_NAME"),
    ],
)
def test_refused_configuration_is_one_line_naming_the_variable(fake, settings, setting, value, named):
    setattr(settings, setting, value)
    with pytest.raises(airtable.AirtableError) as caught:
        _all(airtable.ConfigurableAirtableClient.from_settings())
    message = str(caught.value)
    assert named in message
    assert "\n" not in message
    assert "patWrongToken" not in message
    assert caught.value.permanent


def test_a_429_waits_and_retries(fake):
    fake.fail_next(429, times=2)
    client = airtable.ConfigurableAirtableClient.from_settings()
    assert len(_all(client)) == 5
    assert client.stats.rate_limited == 2


def test_server_errors_are_retried_with_backoff(fake):
    fake.fail_next(503, times=2)
    assert len(_all(airtable.ConfigurableAirtableClient.from_settings())) == 5


def test_server_errors_that_last_end_in_one_airtable_error(fake, settings):
    settings.AIRTABLE_MAX_RETRIES = 2
    fake.fail_next(500, times=3)
    with pytest.raises(airtable.AirtableError, match="answered 500 after every retry") as caught:
        _all(airtable.ConfigurableAirtableClient.from_settings())
    assert caught.value.cause == "server"


def test_an_unreachable_server_is_named(settings, tmp_path):
    with FakeAirtable() as server:
        use(server, settings, tmp_path)
    settings.AIRTABLE_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"
    settings.AIRTABLE_MAX_RETRIES = 1
    with pytest.raises(airtable.AirtableError, match="could not be reached: check AIRTABLE_ENDPOINT_URL"):
        _all(airtable.ConfigurableAirtableClient.from_settings())


def test_names_with_braces_quotes_backslashes_and_unicode_are_escaped(fake, settings, caplog):
    for name, value in renamed_settings(settings, fake.rename_all()).items():
        setattr(settings, name, value)
    records = _all(airtable.ConfigurableAirtableClient.from_settings())
    assert [r.fields["email"] for r in records] == [f"person{n}@company{n}.example" for n in range(1, 6)]
    assert "refused" not in caplog.text  # the primary formula was accepted as written


def test_a_value_with_quotes_and_backslashes_is_quoted_for_the_formula(fake):
    fake.add_record({"Name": 'O\'Brien \\ "Jr" {x} ü'})
    client = airtable.ConfigurableAirtableClient(
        api_key=fake.token,
        base_id=fake.base_id,
        table_name=fake.table_name,
        endpoint_url=fake.url,
        field_map=fields.FieldMap({"name": "Name"}),
    )
    formula = NE(Field("Name"), 'O\'Brien \\ "Jr" {x} ü')
    pages = list(client._pages(formula=formula, limit=None, by_id=False))
    assert sum(len(page) for page in pages) == 5  # every record but the one named so


def test_wrong_field_name_logs_missing_and_real_fields_and_reads_every_row(fake, settings, caplog):
    settings.AIRTABLE_FIELD_EMAIL = "E-mail"
    with caplog.at_level(logging.ERROR, logger="pipeline.airtable"):
        records = _all(airtable.ConfigurableAirtableClient.from_settings())
    assert len(records) == 5
    [entry] = [r for r in caplog.records if r.message == "airtable refused the filter"]
    assert entry.missing_fields == "AIRTABLE_FIELD_EMAIL='E-mail'"
    assert "Email Confidence Level" in entry.table_fields
    assert "Email," in entry.table_fields
    assert entry.fields_from == "schema"


def test_without_schema_access_the_real_fields_come_from_sample_records(fake, settings, caplog):
    fake.deny_schema()
    settings.AIRTABLE_FIELD_NAME = "Full name"
    with caplog.at_level(logging.ERROR, logger="pipeline.airtable"):
        assert len(_all(airtable.ConfigurableAirtableClient.from_settings())) == 5
    [entry] = [r for r in caplog.records if r.message == "airtable refused the filter"]
    assert entry.fields_from == "sample records"
    assert "Name" in entry.table_fields.split(", ")
    assert entry.missing_fields == "AIRTABLE_FIELD_NAME='Full name'"


def test_when_no_mapped_field_exists_it_reads_without_a_filter_and_filters_in_python(fake, settings):
    fake.add_record({})  # a blank row: left out, as the filter would have left it out
    for name in fields.SETTINGS.values():
        setattr(settings, name, f"Nope {name}")
    records = _all(airtable.ConfigurableAirtableClient.from_settings())
    assert len(records) == 5
    assert "filterByFormula" not in fake.requests[-1][1]


def test_field_ids_survive_renaming_every_field(fake, settings):
    settings.AIRTABLE_FIELD_EMAIL = fake.field_id("Email")
    settings.AIRTABLE_FIELD_DATE_MESSAGED = fake.field_id("Date Messaged")
    fake.rename_all()
    settings.AIRTABLE_FIELD_NAME = "Champ Name «ô» {x} 'q' \"d\" a\\b"
    records = _all(airtable.ConfigurableAirtableClient.from_settings())
    assert records[0].fields["email"] == "person1@company1.example"
    assert records[0].fields["name"] == "Person 1"


def test_field_ids_without_schema_access_read_records_by_id(fake, settings):
    fake.deny_schema()
    for name in fields.SETTINGS.values():
        setattr(settings, name, "")
    settings.AIRTABLE_FIELD_EMAIL = fake.field_id("Email")
    settings.AIRTABLE_FIELD_COMPANY_NAME = fake.field_id("Company Name")
    records = _all(airtable.ConfigurableAirtableClient.from_settings())
    assert records[2].fields == {"email": "person3@company3.example", "company_name": "Company 3"}
    assert "returnFieldsByFieldId=1" in fake.requests[-1][1]


def test_batch_updates_carry_ten_records_at_most(fake, settings):
    for n in range(6, 26):
        fake.add_record({"Name": f"Person {n}"})
    client = airtable.ConfigurableAirtableClient.from_settings()
    ids = [r["id"] for r in fake.records]
    results = list(client.update_records([(i, {"engagement_status": "Contacted"}) for i in ids]))
    assert fake.patched_batches == [10, 10, 5]
    assert sum(len(r.accepted) for r in results) == 25
    assert {r["fields"]["Engagement Status"] for r in fake.records} == {"Contacted"}


@contextlib.contextmanager
def _busy_machine(processes: int = 2, seconds: float = 60.0):
    """`processes` CPU-bound children (tests/cpu_burn.py) for the duration of the block, as on a busy machine."""
    code = f"from tests.cpu_burn import burn; burn({seconds})"
    burners = [
        subprocess.Popen([sys.executable, "-c", code], cwd=PROJECT_DIR)  # noqa: S603 - our own module
        for _ in range(processes)
    ]
    try:
        yield
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()


def test_pacing_keeps_two_clients_of_one_base_under_the_limit(fake, settings):
    """With two CPU-bound processes beside it: the margin covers a busy machine's late wake-ups."""
    for n in range(6, 1200):
        fake.add_record({"Name": f"Person {n}"})
    clients = [airtable.ConfigurableAirtableClient.from_settings() for _ in range(2)]
    threads = [threading.Thread(target=_all, args=(client,)) for client in clients]
    with _busy_machine():
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    # 2 x 12 pages: 24 requests, 5 per second, each client on its own open file.
    assert time.monotonic() - started >= 23 * 0.2
    assert fake.count_429 == 0
    assert sum(c.stats.requests for c in clients) == 24


def test_file_pacer_spaces_requests_by_its_interval(tmp_path):
    slept = []
    pacer = pacing.FilePacer(tmp_path / "pace", interval=0.2, sleep=slept.append)
    for _ in range(4):
        pacer.wait()
    assert [round(s, 1) for s in slept] == [0.2, 0.4, 0.6]


@pytest.mark.redis
def test_redis_pacer_spaces_requests_across_clients(settings):
    import os

    key = f"test:airtable-pace:{time.monotonic_ns()}"
    slept = []
    pacers = [pacing.RedisPacer(os.environ["REDIS_URL"], key, interval=0.2, sleep=slept.append) for _ in range(2)]
    for n in range(4):
        pacers[n % 2].wait()
    assert [round(s, 1) for s in slept] == [0.2, 0.4, 0.6]


def test_airtable_check_prints_ids_types_mapping_and_count(fake, capsys):
    call_command("airtable_check")
    out = capsys.readouterr().out
    assert f"{fake.field_id('Email')}  email" in out
    assert f"AIRTABLE_FIELD_EMAIL='Email' -> Email ({fake.field_id('Email')})" in out
    assert "Records: 5" in out


def test_airtable_check_fails_when_a_mapped_field_is_missing(fake, settings, capsys):
    settings.AIRTABLE_FIELD_WEBSITE = "Site web"
    with pytest.raises(CommandError, match="missing from the table: AIRTABLE_FIELD_WEBSITE='Site web'"):
        call_command("airtable_check")
    out = capsys.readouterr().out
    assert "AIRTABLE_FIELD_WEBSITE='Site web' -> MISSING" in out
    assert "Unmapped table fields: Website" in out
