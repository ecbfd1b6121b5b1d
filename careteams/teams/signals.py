"""Hooks other domains subscribe to. Sent inside the transaction that made the
change, so a receiver's own writes commit (or roll back) with it.

    from careteams.teams.signals import team_member_ended

    @team_member_ended.connect
    def _release_shifts(team_member, **extra): ...

Receivers must only flush, never commit.
"""

from blinker import Namespace

_signals = Namespace()

# Sent with the TeamMember whose trial or active membership just ended (they left,
# or the leader or a Team builder ended it). The rota returns their future shifts.
team_member_ended = _signals.signal("team-member-ended")

# Sent with a trial TeamMember when someone confirms it through the teams API or page
# (kwargs: actor, now). A paid place has one state machine, matching's: its receiver
# moves the member's match (which needs a recorded trial shift and both sides) and
# returns True. With no receiver answering True the confirmation is refused.
trial_confirmation_asked = _signals.signal("trial-confirmation-asked")
