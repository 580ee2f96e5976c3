"""A real DNS server on 127.0.0.1:<free UDP port> that answers slowly: every name exists and has no
MX or address record (so email-validator calls it undeliverable), each answer `delay` seconds late."""

import socket
import threading
import time

import dns.flags
import dns.message
import dns.rcode

from tests.processes import free_port


class SlowDNS:
    """`with SlowDNS(delay=1.0) as server:` serves on `server.address` ("127.0.0.1:port"); `queries` lists the names."""

    def __init__(self, *, delay: float = 1.0) -> None:
        self.delay = delay
        self.port = free_port()
        self.queries: list[str] = []
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", self.port))
        self._socket.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> "SlowDNS":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._socket.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, client = self._socket.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(data)
            self.queries.append(str(query.question[0].name))
            threading.Thread(target=self._answer, args=(query, client), daemon=True).start()

    def _answer(self, query, client) -> None:
        time.sleep(self.delay)
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        response.set_rcode(dns.rcode.NOERROR)  # the name exists, with no record of the type asked
        if not self._stop.is_set():
            self._socket.sendto(response.to_wire(), client)
