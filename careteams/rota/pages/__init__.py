"""Rota pages (HTML, no JavaScript needed), one module per use case, one blueprint
(`blueprint.bp`, named "rota"). Thin adapters: parse, call one service, commit once,
render. Add a page module here and import it below so its routes register.

    worker   my shifts, my offers, answering them, arrival, cover, the calendar feed
    week     the team's week (read only today)
"""

from __future__ import annotations

from careteams.rota.pages import week, worker  # noqa: F401  (registers the routes)
from careteams.rota.pages.blueprint import bp

__all__ = ["bp"]
