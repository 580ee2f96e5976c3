"""Pacing and retrying Airtable requests, across every process of the app that talks to one base.

Airtable allows 5 requests/s per base, counted over all clients, and makes a
client that goes over wait 30 s. A limiter inside one process cannot see the
web workers, queue workers and commands running beside it, so the schedule
lives outside the process: in Redis when `REDIS_URL` is set (shared by every
host of a scaled-out deployment), else in a small file under `var/` behind an
`flock`, shared by every process on the host.

The schedule hands out one start time ("slot") per request, each one interval
after the last. Even spacing, not a bucket that allows bursts: Airtable counts
requests in a sliding window, so a burst of 5 followed by one more after a
single interval would already be 6 in one second.
"""

import fcntl
import hashlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

logger = logging.getLogger(__name__)

# Requests reach the server later than we send them, and not always by the same
# amount: on a busy machine a process wakes from its sleep tens of milliseconds
# late, and one late request bunched with an on-time one is 6 in Airtable's
# second. Each interval is this fraction longer than 1/rate, so 5 intervals leave
# about 40 ms of jitter before the server sees 6 in one second (tested with two
# CPU-bound processes beside the clients, and the test suite running on two more);
# the cost is 4% of the ceiling, which `make bench-airtable` checks stays under 5%.
SAFETY_MARGIN = 0.04


class Pacer(Protocol):
    def wait(self) -> float:
        """Block until this process may send one request; returns the seconds waited."""
        ...


class NoPacing:
    """For a server without a rate limit (and for benchmarks of the app's own cost)."""

    def wait(self) -> float:
        return 0.0


class FilePacer:
    """Slots kept in a file; `flock` makes reading and moving the next slot one step for all processes."""

    def __init__(self, path: Path, *, interval: float, sleep: Callable[[float], None] = time.sleep) -> None:
        self.path = path
        self.interval = interval
        self._sleep = sleep
        path.parent.mkdir(parents=True, exist_ok=True)

    def wait(self) -> float:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            raw = os.pread(fd, 64, 0)
            now = time.time()  # wall clock: the one clock every process on the host shares
            try:
                next_free = float(raw.decode() or 0)
            except ValueError:
                next_free = 0.0
            slot = max(now, next_free)
            data = repr(slot + self.interval).encode()
            os.ftruncate(fd, 0)
            os.pwrite(fd, data, 0)
        finally:
            os.close(fd)  # also releases the lock
        delay = slot - now
        if delay > 0:
            self._sleep(delay)
        return delay


# Runs atomically in Redis, on Redis's clock, so hosts with skewed clocks share one schedule.
# Returns how many microseconds the caller must wait for its slot.
_REDIS_SLOT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local next_free = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, next_free)
redis.call('SET', KEYS[1], slot + tonumber(ARGV[1]), 'PX', 60000)
return slot - now
"""


class RedisPacer:
    """Slots kept in one Redis key per base, moved by a Lua script."""

    def __init__(self, url: str, key: str, *, interval: float, sleep: Callable[[float], None] = time.sleep) -> None:
        import redis

        self._client = redis.Redis.from_url(url, socket_timeout=5)
        self._script = self._client.register_script(_REDIS_SLOT)
        self.key = key
        self.interval = interval
        self._sleep = sleep

    def wait(self) -> float:
        delay = int(self._script(keys=[self.key], args=[round(self.interval * 1_000_000)])) / 1_000_000
        if delay > 0:
            self._sleep(delay)
        return delay


@dataclass(slots=True)
class Stats:
    requests: int = 0
    rate_limited: int = 0  # 429s received (each one retried)
    retried: int = 0  # 5xx and network failures retried


class PacedRetryingAdapter(HTTPAdapter):
    """Every request pyairtable sends, first try and retries alike, waits for its slot.

    pyairtable's own retry gives up on a 429 after about 3 s and raises
    `RetryError`; Airtable asks for 30 s. This adapter waits as long as
    configured, retries 5xx and network failures with backoff, and hands the
    last answer back to pyairtable, which raises `HTTPError` for it.
    """

    def __init__(self, *, pacer: Pacer, retries: int, wait_429: float, backoff: float, sleep, stats) -> None:
        super().__init__()
        self.pacer, self.retries, self.wait_429, self.backoff = pacer, retries, wait_429, backoff
        self.sleep, self.stats = sleep, stats

    def send(self, request, *args, **kwargs):
        for attempt in range(self.retries + 1):
            is_last = attempt == self.retries
            self.pacer.wait()
            self.stats.requests += 1
            try:
                response = super().send(request, *args, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as exc:
                if is_last:
                    raise
                self._pause("airtable network error, retrying", self.backoff * 2**attempt, error=type(exc).__name__)
                continue
            if response.status_code == 429:
                self.stats.rate_limited += 1
                if not is_last:
                    response.close()
                    self._pause("airtable rate limit reached, waiting", self.wait_429, status=429)
                    continue
            elif response.status_code >= 500 and not is_last:
                response.close()
                self._pause("airtable server error, retrying", self.backoff * 2**attempt, status=response.status_code)
                continue
            return response
        raise AssertionError("unreachable")  # pragma: no cover - the loop always returns or raises

    def _pause(self, event: str, seconds: float, **facts: Any) -> None:
        if facts.get("status") != 429:
            self.stats.retried += 1
        logger.warning(event, extra={"wait_seconds": round(seconds, 2), **facts})
        self.sleep(seconds)


def for_base(endpoint_url: str, base_id: str) -> Pacer:
    """The pacer every process of this deployment shares for `base_id` on `endpoint_url`."""
    rate = settings.AIRTABLE_REQUESTS_PER_SECOND
    if rate <= 0:
        return NoPacing()
    interval = (1.0 + SAFETY_MARGIN) / rate
    # The endpoint is part of the key so that two servers (a test's fake, the real API) never share slots.
    safe_id = hashlib.sha256(f"{endpoint_url}|{base_id}".encode()).hexdigest()[:16]
    if settings.REDIS_URL:
        return RedisPacer(settings.REDIS_URL, f"outreach:airtable-pace:{safe_id}", interval=interval)
    return FilePacer(settings.VAR_DIR / f"airtable-pace-{safe_id}", interval=interval)
