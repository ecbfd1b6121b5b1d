"""The non-web processes of tests/core/test_two_instances.py, run as subprocesses:

    python -m tests.core.multi_process clock  <database url> <status file> [direct]
    python -m tests.core.multi_process sender <database url> <record file>

`clock` is the Procfile's clock (careteams.scheduler: the advisory lock, then
APScheduler with the registry's jobs), with one change so the test stays short:
only `rota.reminders` is scheduled, every half second from the start, instead of
every five minutes. The clock that gets the lock writes "held <backend pid>" to its
status file; the other waits in `acquire_clock_lock` as a standby for ever. With
`direct`, the clock takes its lock through CLOCK_DATABASE_URL (its own engine, as
behind a transaction-mode pooler), the other through the app's engine: one lock.

`sender` runs the outbox sender job (`sms.send_outbox`, what the clock runs every
5 s) in a loop through `run_job`, with a console-like gateway that never touches
the network and appends one line per text handed to it ("<os pid> <outbound id>")
to its record file, so the test counts deliveries, not just rows.

Both are ended by the test with SIGTERM (then SIGKILL).
"""

from __future__ import annotations

import os
import sys
import time
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa

from careteams import create_app
from careteams.sms.gateway import SentText, local_sid, set_gateway

# The senders set PUBLIC_BASE_URL only so that each send carries its outbound id in
# the status callback URL (never called: the gateway below talks to no one).
CALLBACK_BASE = "http://sender.invalid"


def make_app(url: str, **overrides):
    return create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url, "MAIL_BACKEND": "locmem",
                       **overrides})


class RecordingGateway:
    """The console gateway's contract, recording each send to a file (no network)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def send(self, *, to: str, body: str, from_number: str | None = None,
             status_callback: str | None = None) -> SentText:
        outbound = parse_qs(urlsplit(status_callback or "").query).get("outbound", ["?"])[0]
        time.sleep(0.01)  # a gateway takes a moment: the senders overlap
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(f"{os.getpid()} {outbound}\n")
        return SentText(to, body, from_number, local_sid("SMCONSOLE"))


def run_clock(url: str, status_path: str, how: str = "") -> None:
    from careteams.scheduler import acquire_clock_lock, build_scheduler

    app = make_app(url, **({"CLOCK_DATABASE_URL": url} if how == "direct" else {}))
    lock = acquire_clock_lock(app, poll=0.2)  # blocks here as a standby
    backend_pid = lock.execute(sa.text("SELECT pg_backend_pid()")).scalar()
    lock.commit()
    with open(status_path, "w", encoding="utf-8") as out:
        out.write(f"held {backend_pid}\n")
    scheduler = build_scheduler(app)
    for job in scheduler.get_jobs():
        if job.id != "rota.reminders":
            job.remove()
    scheduler.reschedule_job("rota.reminders", trigger="interval", seconds=0.5)
    scheduler.modify_job("rota.reminders", next_run_time=datetime.now().astimezone() + timedelta(seconds=0.1))
    scheduler.start()


def run_sender(url: str, record_path: str, how: str = "") -> None:
    from careteams.scheduler import run_job

    app = make_app(url, PUBLIC_BASE_URL=CALLBACK_BASE)
    set_gateway(app, RecordingGateway(record_path))
    while True:
        run_job(app, "sms.send_outbox")
        time.sleep(0.05)


if __name__ == "__main__":
    role, database_url, path, *how = sys.argv[1:]
    {"clock": run_clock, "sender": run_sender}[role](database_url, path, *how)
