"""Use cases for rotas, one module each. Services flush; the caller (view, page, job,
SMS command, signal) commits once.

    common       how a shift is shown (ShiftView, when_text), OfferResult, loading with
                 access checks, the double-booking check, releasing a booking, notices
    settings     each co-op's rota settings
    eligibility  worker-profile lookups (skills, checks, the 48-hour opt-out) from matching
    checks       working-time and care-quality checks of a shift
    shifts       one-off shifts: add, edit, cancel
    series       recurring visits: add, materialise (clock), split "this and following"
    offers       offering, answering (website or text code), booking directly, the
                 clock's expiry and escalation
    cover        cover requests, swaps, a leaver's shifts re-offered, the team arranging cover
    cover_and_swaps  the team's open cover requests and the swaps waiting for its decision
    attendance   reminders, arrival, missed-visit alerts, completing ended shifts (clock)
    reading      a team's week and next four weeks, what needs attention, someone's shifts and open offers
    visits       one visit of the team's rota and where its offers stand (who said no, what happens next)
    offering     what the visit page's offer, book and outside forms may do, and whom it may book
    feeds        private calendar feeds
    worker       the worker's own view: her visit page (address only around the visit),
                 swaps she may propose and those waiting for her answer

Booking is the heart of it (offers): inside one transaction the application checks the
worker is free and the checks allow it, then a conditional UPDATE books the shift
only if nobody else has (`status IN ('open', 'offered') AND booked_person_id IS
NULL`), so exactly one acceptance wins; on PostgreSQL an exclusion constraint
also makes an overlapping booking of one worker impossible.
"""
