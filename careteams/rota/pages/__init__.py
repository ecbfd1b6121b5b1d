"""Rota pages (HTML, no JavaScript needed), one module per use case, one blueprint
(`blueprint.bp`, named "rota"). Thin adapters: parse, call one service, commit once,
render. Add a page module here and import it below so its routes register.

    worker   my shifts, my offers, answering them, arrival, cover, the calendar feed
    week     the team's week and its next four weeks as a list, what needs attention first
    visits   one visit of the team's rota: details, checks, where its offers stand
    editing  adding a visit (the checks before saving), changing it (this or following), cancelling it
    swaps    cover and swaps for the team: arrange cover, decide swaps
    offering offering a visit (team wave, booking directly, outside the team), recurring visits
"""

from __future__ import annotations

from careteams.rota.pages import editing, offering, swaps, visits, week, worker  # noqa: F401  (registers the routes)
from careteams.rota.pages.blueprint import bp

__all__ = ["bp"]
