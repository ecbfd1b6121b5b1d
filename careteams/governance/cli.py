"""`flask --app careteams governance ...`: the tellers' commands.

- `show-share RESOLUTION_ID EMAIL`: a teller's share, once (as the share page does).
- `open-count RESOLUTION_ID`: k tellers type their shares (hidden); the ballots are
  opened in memory, counted and published; the key is forgotten.
- `recount RESOLUTION_ID`: the recount kit: k shares reopen the same ciphertexts and
  the tally is recomputed and compared with the published result; nothing is written.

Shares are read with hidden prompts (or one per line on standard input), never
as arguments: arguments end up in shell history and process lists.
"""

from __future__ import annotations

import json
import sys

import click
import sqlalchemy as sa
from flask.cli import AppGroup, with_appcontext

from careteams.db import utcnow
from careteams.errors import AppError
from careteams.extensions import db
from careteams.governance.models import Resolution
from careteams.governance.services import tellers
from careteams.members.models import Cooperative, Person
from careteams.members.services import actor_for

governance_cli = AppGroup("governance", help="Resolutions: tellers' shares, opening the count, the recount kit.")


def _resolution(resolution_id: int) -> tuple[Resolution, Cooperative]:
    resolution = db.session.get(Resolution, resolution_id)
    if resolution is None:
        raise click.ClickException(f"No resolution {resolution_id}.")
    return resolution, db.session.get(Cooperative, resolution.cooperative_id)


def _read_shares(resolution: Resolution) -> list[str]:
    needed = resolution.shares_needed or 1
    if not sys.stdin.isatty():
        return [line.strip() for line in sys.stdin.read().splitlines() if line.strip()][:needed]
    return [click.prompt(f"Teller {n} of {needed}: your share", hide_input=True) for n in range(1, needed + 1)]


@governance_cli.command("show-share")
@click.argument("resolution_id", type=int)
@click.argument("email")
@with_appcontext
def show_share(resolution_id: int, email: str):
    """Show a teller her share, once: write it down or print it, it is not kept."""
    resolution, coop = _resolution(resolution_id)
    person = db.session.scalar(sa.select(Person).where(Person.email == email.lower()))
    if person is None:
        raise click.ClickException("No such person.")
    try:
        share = tellers.take_my_share(actor_for(person), coop, resolution, utcnow())
    except AppError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message or "Not allowed.") from exc
    db.session.commit()
    click.echo(f"Your share for resolution {resolution_id} (shown once; {resolution.shares_needed} shares "
               f"open the count):\n\n  {share}\n")


@governance_cli.command("open-count")
@click.argument("resolution_id", type=int)
@with_appcontext
def open_count(resolution_id: int):
    """k tellers give their shares: open the ballots, count, publish."""
    resolution, coop = _resolution(resolution_id)
    try:
        tellers.open_count(None, coop, resolution, _read_shares(resolution), utcnow())
    except AppError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message or "The count could not be opened.") from exc
    db.session.commit()
    click.echo(f"Counted and published: {resolution.result['outcome']}")


@governance_cli.command("recount")
@click.argument("resolution_id", type=int)
@with_appcontext
def recount(resolution_id: int):
    """The recount kit: reopen the same sealed ballots with k shares and recount."""
    resolution, _ = _resolution(resolution_id)
    try:
        again = tellers.recount(resolution, _read_shares(resolution))
    except AppError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message or "The recount could not be opened.") from exc
    db.session.rollback()  # the recount writes nothing
    click.echo(json.dumps(again, indent=2, sort_keys=True))
    if again != resolution.result:
        raise click.ClickException("The recount does NOT match the published result.")
    click.echo("The recount matches the published result.")
