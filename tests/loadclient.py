"""A bounded HTTP load: `python -m tests.loadclient URL --count N --seconds S [--concurrency C]`.

Prints one JSON object: requests, errors, statuses, seconds, requests/s and the
latency percentiles in milliseconds. Each request opens its own connection, as
a health checker or a load balancer's probe does. Run as a second process, so
the figures include no work of the process that started the server.
"""

import argparse
import http.client
import json
import math
import threading
import time
from collections import Counter
from urllib.parse import urlsplit


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of `values` (not empty)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def _one(host: str, port: int, path: str) -> tuple[int, float]:
    started = time.perf_counter()
    connection = http.client.HTTPConnection(host, port, timeout=5)
    try:
        connection.request("GET", path, headers={"Host": f"localhost:{port}"})
        response = connection.getresponse()
        response.read()
        status = response.status
    except OSError:
        status = 0
    finally:
        connection.close()
    return status, time.perf_counter() - started


def load(url: str, *, count: int, seconds: float, concurrency: int = 1) -> dict:
    """Send up to `count` GETs to `url`, stopping after `seconds`; `concurrency` at a time."""
    parts = urlsplit(url)
    latencies: list[float] = []
    statuses: Counter = Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    remaining = [count]

    def worker() -> None:
        while time.monotonic() < deadline:
            with lock:
                if remaining[0] == 0:
                    return
                remaining[0] -= 1
            status, latency = _one(parts.hostname, parts.port or 80, parts.path or "/")
            with lock:
                statuses[status] += 1
                latencies.append(latency)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "errors": len(latencies) - statuses[200],
        "statuses": {str(code): n for code, n in sorted(statuses.items())},
        "seconds": round(elapsed, 3),
        "requests_per_second": round(len(latencies) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2) if latencies else None,
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2) if latencies else None,
        "max_ms": round(max(latencies) * 1000, 2) if latencies else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args()
    result = load(args.url, count=args.count, seconds=args.seconds, concurrency=args.concurrency)
    print(json.dumps(result))  # noqa: T201 - the one line this program exists to print


if __name__ == "__main__":
    main()
