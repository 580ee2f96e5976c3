"""A real IMAP server for tests: Debian's Dovecot 2.3 on 127.0.0.1:<free port>, one user,
a Maildir in a temporary folder, started unprivileged and stopped by its PID.

Mail is delivered by writing files into the Maildir (as a delivery agent does), and
`messages()` reads the Maildir back: what is still there and with which flags, so a test
can check that nothing was marked read, moved or deleted.

Dovecot's login process refuses to run as root, and CI runs as root: its internal and
login users are then `nobody`, who also owns the Maildir.
"""

import contextlib
import grp
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from tests.processes import free_port, wait_for_port

DOVECOT = Path("/usr/sbin/dovecot")
_CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = 0
mail_fsync = never
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


def available() -> bool:
    """True when Dovecot's packaged install is here (dovecot execs /usr/bin/doveconf)."""
    return DOVECOT.exists() and Path("/usr/bin/doveconf").exists()


MISSING = "needs Dovecot: apt-get install dovecot-imapd (.ci/run installs it)"


@dataclass(frozen=True, slots=True)
class Stored:
    name: str  # the Maildir file name, without its flags
    folder: str  # new or cur
    flags: str  # Maildir flags: S = seen, T = trashed, F = flagged …

    @property
    def is_unread(self) -> bool:
        return "S" not in self.flags


class Dovecot:
    """`with Dovecot() as server:` serves `server.inbox_url()`; `server.deliver(raw)` adds a message."""

    def __init__(self, *, user: str = "team@outreach.example", password: str = "imap-secret") -> None:  # noqa: S107 - the test server's own login
        self.user, self.password = user, password
        self.port = free_port()
        self._process: subprocess.Popen | None = None
        self._count = 0

    # --- the server -------------------------------------------------------------------

    def __enter__(self) -> "Dovecot":
        # Not pytest's tmp_path: its parents are private to root, and `nobody` must reach the Maildir.
        self.root = Path(tempfile.mkdtemp(prefix="dovecot-"))
        self.root.chmod(0o755)
        runner = pwd.getpwnam("nobody") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
        self._uid, self._gid = runner.pw_uid, runner.pw_gid
        self.home = self.root / "home"
        self.maildir = self.home / "Maildir"
        for sub in ("cur", "new", "tmp"):
            (self.maildir / sub).mkdir(parents=True)
        for path in (self.root / "run", self.root / "state"):
            path.mkdir()
        config = _CONFIG.format(
            root=self.root, user=runner.pw_name, group=grp.getgrgid(runner.pw_gid).gr_name, port=self.port
        )
        (self.root / "dovecot.conf").write_text(config)
        passwd = f"{self.user}:{{PLAIN}}{self.password}:{self._uid}:{self._gid}::{self.home}\n"
        (self.root / "passwd").write_text(passwd)
        self._chown(self.home)
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def start(self) -> None:
        log = (self.root / "stdout.log").open("ab")
        self._process = subprocess.Popen(
            [str(DOVECOT), "-F", "-c", str(self.root / "dovecot.conf")], stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        try:
            wait_for_port(self.port, timeout=15)
        except TimeoutError:
            self.stop()
            raise RuntimeError(f"Dovecot did not start: {self.log()[-2000:]}") from None

    def stop(self) -> None:
        """Stop the master process by its PID (it stops its children)."""
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)

    def pause(self) -> None:
        """Stop every Dovecot process (SIGSTOP): clients that connect now wait for the greeting."""
        for pid in self._pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)

    def resume_when_connected(self, clients: int, *, timeout: float = 60) -> None:
        """Once `clients` connections wait at the paused server, let it go on (SIGCONT), so they start together."""
        deadline = time.monotonic() + timeout
        while self._connections() < clients and time.monotonic() < deadline:
            time.sleep(0.05)
        for pid in self._pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    def _pids(self) -> list[int]:
        """The master and every process below it."""
        if self._process is None:
            return []
        parents: dict[int, int] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = stat.read_text().rpartition(")")[2].split()
                parents[int(stat.parent.name)] = int(fields[1])
        found, frontier = [self._process.pid], [self._process.pid]
        while frontier:
            frontier = [pid for pid, parent in parents.items() if parent in frontier]
            found += frontier
        return found

    def _connections(self) -> int:
        """Established TCP connections to the server's port, seen from the clients' side."""
        count = 0
        for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
            with contextlib.suppress(OSError):
                for line in table.read_text().splitlines()[1:]:
                    fields = line.split()
                    if fields[3] == "01" and int(fields[2].rpartition(":")[2], 16) == self.port:
                        count += 1
        return count

    def log(self) -> str:
        logs = (self.root / "dovecot.log", self.root / "stdout.log")
        return "\n".join(path.read_text(errors="replace") for path in logs if path.exists())

    def inbox_url(self, *, password: str | None = None, folder: str = "INBOX") -> str:
        secret = quote(self.password if password is None else password, safe="")
        return f"imap://{quote(self.user, safe='')}:{secret}@127.0.0.1:{self.port}/{folder}"

    def use_in(self, settings) -> None:
        """Point INBOX_URL (the `settings` fixture) at this server."""
        settings.INBOX_URL = self.inbox_url()

    # --- the Maildir --------------------------------------------------------------------

    def deliver(self, raw: bytes) -> str:
        """Write one message into new/, as a delivery agent does (tmp/, then rename); returns its file name."""
        self._count += 1
        name = f"{time.time_ns()}.M{self._count}P{os.getpid()}.outreach-tests"
        staged = self.maildir / "tmp" / name
        staged.write_bytes(raw)
        os.chown(staged, self._uid, self._gid)
        staged.rename(self.maildir / "new" / name)
        return name

    def messages(self) -> list[Stored]:
        """Every message file still in the Maildir, with its flags."""
        found = []
        for folder in ("new", "cur"):
            for path in sorted((self.maildir / folder).iterdir()):
                name, _, flags = path.name.partition(":2,")
                found.append(Stored(name, folder, flags))
        return found

    def renumber(self) -> None:
        """Give the folder a new UIDVALIDITY, as a server restored from a backup does; the mail stays."""
        self.stop()
        uidlist = self.maildir / "dovecot-uidlist"
        head, _, rest = uidlist.read_text().partition("\n")
        fields = [f"V{int(field[1:]) + 1}" if field.startswith("V") else field for field in head.split(" ")]
        uidlist.write_text(" ".join(fields) + "\n" + rest)
        for index in self.maildir.glob("dovecot.index*"):
            index.unlink()
        self.start()

    def _chown(self, top: Path) -> None:
        for path in [top, *top.rglob("*")]:
            with contextlib.suppress(PermissionError):
                os.chown(path, self._uid, self._gid)
