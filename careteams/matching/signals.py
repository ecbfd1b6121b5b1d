"""Subscriptions to other domains' signals."""

from __future__ import annotations

import sqlalchemy as sa

from careteams.extensions import db
from careteams.matching.models import Match, MatchState
from careteams.matching.rules import Action
from careteams.matching.services.matches import act_on_match
from careteams.teams.signals import trial_confirmation_asked


@trial_confirmation_asked.connect
def _confirm_through_the_match(member, *, actor, now, **extra) -> bool:
    # The teams API and page confirm a trial place through its match: one state
    # machine, so its rules (a trial shift first, each side once) hold on every path.
    match_id = db.session.scalar(sa.select(Match.id).where(
        Match.team_member_id == member.id, Match.state == MatchState.trial))
    if match_id is None:
        return False
    act_on_match(actor, match_id, Action.confirm, now=now)
    return True
