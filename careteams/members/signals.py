"""Hooks other domains subscribe to. Sent inside the transaction that made the
change, so a receiver's own writes commit (or roll back) with it. Receivers only flush.

members sits below auth (auth builds on members' people), so what an account change
means for logins and for the person's old address is auth's, through these."""

from blinker import Namespace

_signals = Namespace()

# Sent with the Person an admin just switched off (kwargs: cooperative, by_person_id).
# auth ends every login session and revokes every API token of theirs.
person_deactivated = _signals.signal("person-deactivated")

# Sent with the Person whose email or mobile an admin just changed (kwargs: kind
# "email" or "phone", old, new, cooperative). auth tells the OLD address, as for a
# change the person makes on My account.
contact_changed_by_admin = _signals.signal("contact-changed-by-admin")
