"""Subscriptions to other domains' signals."""

from __future__ import annotations

from careteams.teams.signals import team_member_ended


@team_member_ended.connect
def _return_leavers_shifts(member, **extra) -> None:
    # Ending consent: the leaver's future shifts go back to open and are re-offered,
    # in the same transaction as the leaving itself.
    from careteams.rota.services import return_shifts_of_leaver

    return_shifts_of_leaver(member)
