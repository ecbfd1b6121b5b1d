"""Subscriptions to other domains' signals."""

from __future__ import annotations

from careteams.rota.services.cover import return_shifts_of_leaver
from careteams.teams.signals import team_member_ended


@team_member_ended.connect
def _return_leavers_shifts(member, **extra) -> None:
    # Ending consent: the leaver's future shifts go back to open and are re-offered,
    # in the same transaction as the leaving itself.
    return_shifts_of_leaver(member)
