"""The person making the request, for views: session cookie or bearer token."""

from __future__ import annotations

from flask import g
from flask_login import current_user

from careteams.errors import Unauthorized
from careteams.members.models import Person
from careteams.members.permissions import Actor
from careteams.members.services import actor_for


def current_person() -> Person:
    if not current_user.is_authenticated:
        raise Unauthorized()
    return current_user._get_current_object()


def current_actor() -> Actor:
    """The logged-in person's Actor, built once per request."""
    if "actor" not in g:
        g.actor = actor_for(current_person())
    return g.actor
