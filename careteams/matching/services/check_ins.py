"""Check-ins after the 3rd and 8th shift: each side says whether it is working."""

from __future__ import annotations

import sqlalchemy as sa

from careteams.errors import Conflict, NotFound, ensure
from careteams.extensions import db
from careteams.matching import permissions as perm
from careteams.matching import rules
from careteams.matching.models import Match, ReviewPrompt, Side
from careteams.matching.rules import Action
from careteams.matching.services.common import iso
from careteams.matching.services.matches import visible_match
from careteams.matching.services.notifications import notify_facilitators
from careteams.members.permissions import Actor


def answer_check_in(actor: Actor, match_id: int, after_shift: int, answer: rules.CheckInAnswer) -> ReviewPrompt:
    """Say whether it is working at a check-in, once per side. Each side sees only its own
    answer; facilitators see both, and are told when either side says it is not working."""
    match, sides, _ = visible_match(actor, match_id, for_update=True)
    # The same people who confirm a trial answer for their side; a facilitator only reads.
    ensure(perm.may_take(Action.confirm, sides))
    side = perm.side_for(Action.confirm, sides)
    prompt = db.session.scalar(sa.select(ReviewPrompt).where(ReviewPrompt.match_id == match.id,
                                                             ReviewPrompt.after_shift == after_shift))
    if prompt is None:
        raise NotFound("There is no check-in after that many shifts yet.")
    column = "team_answer" if side == Side.team else "worker_answer"
    if getattr(prompt, column) is not None:
        raise Conflict("Your side has already answered this check-in.", code="already_answered")
    setattr(prompt, column, answer.value)
    if answer == rules.CheckInAnswer.not_working:
        notify_facilitators(match, "A check-in on a match says it is not working. Log in to careteams to see it.")
    db.session.flush()
    return prompt


def check_in_views(match: Match, sides: frozenset[Side]) -> list[dict]:
    prompts = db.session.scalars(sa.select(ReviewPrompt).where(ReviewPrompt.match_id == match.id)
                                 .order_by(ReviewPrompt.after_shift)).all()
    answering = perm.side_for(Action.confirm, sides) if perm.may_take(Action.confirm, sides) else None
    views = []
    for prompt in prompts:
        view = {"after_shift": prompt.after_shift, "due_at": iso(prompt.due_at)}
        if Side.team in sides or Side.facilitator in sides:
            view["team_answer"] = prompt.team_answer
        if Side.worker in sides or Side.facilitator in sides:
            view["worker_answer"] = prompt.worker_answer
        if answering is not None:
            view["your_answer"] = prompt.team_answer if answering == Side.team else prompt.worker_answer
        views.append(view)
    return views
