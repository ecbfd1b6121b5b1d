"""SQLite, the embedded default, copes with the demo's two writers (the web server
and the clock process): transactions that read and then write queue for the write
lock instead of failing with "database is locked"."""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

import sqlalchemy as sa

from careteams.extensions import db
from tests.conftest import make_app


def test_two_read_then_write_transactions_both_commit():
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='careteams-lock-')) / 'lock.sqlite'}"
    app = make_app(url)
    with app.app_context():
        engine = db.engine
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE tally (who TEXT NOT NULL)")
        start = threading.Barrier(2)
        errors: list[BaseException] = []

        def read_then_write(who: str) -> None:
            try:
                start.wait(timeout=10)
                with engine.connect() as conn, conn.begin():
                    conn.execute(sa.text("SELECT count(*) FROM tally")).scalar_one()
                    time.sleep(0.3)  # both would now hold a read lock under a deferred BEGIN
                    conn.execute(sa.text("INSERT INTO tally (who) VALUES (:who)"), {"who": who})
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=read_then_write, args=(name,)) for name in ("web", "clock")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert errors == []
        with engine.connect() as conn:
            assert sorted(conn.execute(sa.text("SELECT who FROM tally")).scalars()) == ["clock", "web"]
        engine.dispose()
