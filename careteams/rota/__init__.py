"""Rotas: shifts, recurring visits, offers, bookings, cover, swaps and calendar feeds.

pages.py holds the HTML pages (blueprint "rota"), views.py the JSON API ("rota_api"),
signals.py the listeners on other domains' events; the app factory loads all three.
"""
