"""Subscriptions to other domains' signals."""

from __future__ import annotations

from careteams.auth import account
from careteams.auth.enums import ContactKind, SessionEnd
from careteams.auth.services import end_all_login_sessions, revoke_all_api_tokens
from careteams.members.signals import contact_changed_by_admin, person_deactivated


@person_deactivated.connect
def _sign_out_everywhere(person, **extra) -> None:
    # A switched-off account is signed out on every device and its API tokens stop
    # working at once (not only when they next check `active`). SessionEnd has no
    # "deactivated" reason yet (a schema change): the sessions end as a logout.
    end_all_login_sessions(person, SessionEnd.logout)
    revoke_all_api_tokens(person)


@contact_changed_by_admin.connect
def _tell_old_address(person, kind: str, old: str | None, new: str | None, cooperative=None, **extra) -> None:
    account.tell_old_contact(person, ContactKind(kind), old, new,
                             by_cooperative=cooperative.name if cooperative is not None else "your co-op")
