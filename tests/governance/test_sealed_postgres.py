"""Issue 19 on PostgreSQL: cast ballots, then try every link a database user could
(xmin, ctid, sequences, timestamps, sizes, a pg_dump of the whole database, the
server log if readable) and recover no member's choice; no key material is in the
database, the dump or the log; k shares open the count and k-1 do not."""

from __future__ import annotations

import os
import secrets
import subprocess
from datetime import timedelta
from urllib.parse import urlparse

import pytest
import sqlalchemy as sa
from Crypto.Protocol.SecretSharing import Shamir

from careteams.db import utcnow
from careteams.errors import ValidationError
from careteams.extensions import db
from careteams.governance import jobs, seal
from careteams.governance.enums import ResolutionStatus
from careteams.governance.models import Resolution
from careteams.governance.services import resolutions, results, tellers
from careteams.members.models import Cooperative, Membership, Person
from careteams.members.services import actor_for
from tests.conftest import requires_postgres
from tests.governance.conftest import build_coop, draft, vote

pytestmark = [pytest.mark.postgres]

CHOICES = ["for", "against", None]


def _setup(app):
    """A vote with three tellers (2 of 3), shares taken; then each member votes in her own transaction."""
    with app.app_context():
        c = build_coop({"worker": 6, "supported": 4, "advocate": 2, "investor": 2})
        now = utcnow()
        r = draft(c, opens_at=now - timedelta(minutes=1), closes_at=now + timedelta(hours=1))
        scrutineers = [c.member("worker", 0).person_id, c.member("supported", 0).person_id]
        r = resolutions.open_resolution(c.actor(c.secretary), c.coop, r, now, scrutineers=scrutineers,
                                        shares_needed=2)
        people = [c.secretary.id, *scrutineers]
        db.session.commit()
        shares = []
        for pid in people:
            shares.append(tellers.take_my_share(actor_for(db.session.get(Person, pid)), c.coop, r, now))
            db.session.commit()
        members = [m.id for ms in c.members.values() for m in ms]
        secrets.SystemRandom().shuffle(members)
        truth, receipts = {}, []
        for n, mid in enumerate(members):
            membership = db.session.get(Membership, mid)
            rid = r.id
            choice = CHOICES[n % 3] if n % 5 else "for"
            resolution = db.session.get(Resolution, rid)
            receipts.append(vote(c, membership, resolution, choice)["receipt"])
            db.session.commit()  # one transaction per voter, as in the app
            truth[mid] = choice
        ids = {"resolution": r.id, "coop": c.coop.id, "order": members, "truth": truth, "shares": shares,
               "receipts": receipts}
        db.session.remove()
    return ids


def _rows(conn, sql, **params):
    return conn.execute(sa.text(sql), params).all()


def _links(conn, rid):
    """Voters whose electorate row shares its xmin with exactly one ballot: a recovered link."""
    return _rows(conn, """
        SELECT e.membership_id, b.id FROM electorate_entry e JOIN ballot b
          ON b.xmin::text = e.xmin::text AND b.resolution_id = e.resolution_id
        WHERE e.resolution_id = :rid AND e.has_voted
          AND (SELECT count(*) FROM ballot b2 WHERE b2.xmin::text = e.xmin::text AND b2.resolution_id = :rid) = 1
    """, rid=rid)


def test_a_database_user_recovers_no_choice_and_no_key(committed_app, database_url):
    requires_postgres(database_url)
    ids = _setup(committed_app)
    rid = ids["resolution"]
    with committed_app.app_context():
        # Before the shuffle the old leak is real: xmin links every voter to her ballot (the test can fail).
        by_ctid_sql = "SELECT receipt FROM ballot WHERE resolution_id = :rid ORDER BY ctid"
        with db.engine.connect() as conn:
            assert len(_links(conn, rid)) == len(ids["order"])
            assert [r[0] for r in _rows(conn, by_ctid_sql, rid=rid)] == ids["receipts"]
        jobs.open_and_close(utcnow())  # the clock's minute: the shuffle
        db.session.commit()

        with db.engine.connect() as conn:
            # xmin: every voter's row and every ballot now carry the shuffle's one transaction id.
            assert _links(conn, rid) == []
            assert _rows(conn, "SELECT count(DISTINCT xmin::text) FROM ballot WHERE resolution_id = :rid",
                         rid=rid)[0][0] == 1
            assert _rows(conn, "SELECT count(DISTINCT xmin::text) FROM electorate_entry WHERE resolution_id = :rid",
                         rid=rid)[0][0] == 1
            # ctid: physical order is no longer the voting order (14 ballots: 1 in 14! by chance).
            by_ctid = [r[0] for r in _rows(conn, by_ctid_sql, rid=rid)]
            assert sorted(by_ctid) == sorted(ids["receipts"]) and by_ctid != ids["receipts"]
            # Sequences and timestamps: the ballot table has neither.
            columns = _rows(conn, """SELECT column_name, data_type, column_default FROM information_schema.columns
                                     WHERE table_name = 'ballot'""")
            assert {c[0] for c in columns} == {"id", "resolution_id", "sealed", "member_class", "receipt",
                                               "change_token_hash"}
            assert all(c[2] is None for c in columns)
            assert not any("time" in c[1] or "date" in c[1] for c in columns)
            assert _rows(conn, "SHOW track_commit_timestamp")[0][0] == "off"
            # Sizes: every sealed ballot is the same length; no choice is readable in one.
            sealed = _rows(conn, "SELECT sealed FROM ballot WHERE resolution_id = :rid", rid=rid)
            assert {len(bytes(s[0])) for s in sealed} == {seal.SEALED_LENGTH}
            assert not any(w in bytes(s[0]) for s in sealed for w in (b"for", b"against"))
            # Key material: the resolution holds the public key and the *encrypted* private key only.
            waiting = _rows(conn, "SELECT waiting_share FROM resolution_teller WHERE resolution_id = :rid", rid=rid)
            assert [w[0] for w in waiting] == [None, None, None]

        resolution = db.session.get(Resolution, rid)
        private = seal.open_key(resolution.sealed_private_key, ids["shares"][:2], 2)
        opened_in_ctid_order = [seal.open_ballot(private, bytes(s[0])) for s in sealed]
        key16 = Shamir.combine([seal.parse_share(s) for s in ids["shares"][:2]], ssss=False)
        assert sorted(opened_in_ctid_order, key=lambda o: o or "") == sorted(ids["truth"].values(), key=lambda o: o or "")

        # A pg_dump of the whole database holds no share, no private key, no 16-byte key, no choice.
        url = urlparse(database_url)
        env = {**os.environ, "PGPASSWORD": url.password or ""}
        dump = subprocess.run(["pg_dump", "-h", url.hostname or "127.0.0.1", "-p", str(url.port or 5432),
                               "-U", url.username or "postgres", url.path.lstrip("/")],
                              capture_output=True, text=True, env=env, timeout=120, check=True).stdout
        assert "COPY public.ballot" in dump
        needles = _needles(ids["shares"], bytes(private), key16)
        assert not [n for n in needles if n in dump.lower()]
        ballot_lines = dump.split("COPY public.ballot", 1)[1].split("\\.", 1)[0]
        assert "against" not in ballot_lines and "\tfor\t" not in ballot_lines
        # The server log, where this database user may read it.
        log = _server_log()
        if log is not None:
            assert not [n for n in needles if n in log.lower()]

        # k-1 shares open nothing; k shares open the count and the result is the truth.
        results.close_resolution(rid, resolution.closes_at)
        db.session.commit()
        resolution = db.session.get(Resolution, rid)
        coop = db.session.get(Cooperative, ids["coop"])
        with pytest.raises(ValidationError):
            tellers.open_count(None, coop, resolution, ids["shares"][:1], utcnow())
        db.session.rollback()
        resolution = db.session.get(Resolution, rid)
        assert resolution.status == ResolutionStatus.counting
        tellers.open_count(None, coop, resolution, [ids["shares"][2], ids["shares"][1]], utcnow())
        db.session.commit()
        resolution = db.session.get(Resolution, rid)
        truth = list(ids["truth"].values())
        everyone = resolution.result["counts"]["all"]
        assert everyone.get("for", 0) == truth.count("for")
        assert everyone.get("against", 0) == truth.count("against")
        assert everyone.get("abstain", 0) == truth.count(None)
        assert tellers.recount(resolution, ids["shares"][:2]) == resolution.result


def _needles(shares: list[str], private: bytes, key16: bytes) -> list[str]:
    out = []
    for share in shares:
        _, value = seal.parse_share(share)
        out += [share.lower(), seal.share_groups(share).lower(), value.hex()]
    return out + [private.hex(), key16.hex()]


def _server_log() -> str | None:
    try:
        with db.engine.connect() as conn:
            name = conn.execute(sa.text("SELECT pg_current_logfile()")).scalar()
            if not name:
                return None
            return conn.execute(sa.text("SELECT pg_read_file(:n)"), {"n": name}).scalar()
    except sa.exc.DBAPIError:
        return None
