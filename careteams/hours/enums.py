"""The hours domain's enums: timesheet states and actions, entry kinds, pay frequency,
area bands and funder kinds. No Flask, no database."""

from __future__ import annotations

import enum


class TimesheetStatus(enum.StrEnum):
    pending = "pending"  # made when a booked shift ends, or logged by the worker; not yet submitted
    submitted = "submitted"  # the worker says this is what happened
    adjustment_proposed = "adjustment_proposed"  # the checker proposes other figures
    disputed = "disputed"  # for a facilitator to resolve
    confirmed = "confirmed"  # both sides agree: immutable from here
    void = "void"  # a facilitator resolved a dispute as "not worked"


class TimesheetAction(enum.StrEnum):
    edit = "edit"  # worker
    submit = "submit"  # worker
    confirm = "confirm"  # checker (leader or Hours checker hat)
    adjust = "adjust"  # checker
    dispute = "dispute"  # checker
    accept = "accept"  # worker accepts the proposed adjustment
    reject = "reject"  # worker rejects it: becomes a dispute
    resolve = "resolve"  # facilitator: confirmed with the figures they settle on
    resolve_void = "resolve_void"  # facilitator: nothing to pay
    auto_confirm = "auto_confirm"  # the clock, a set time after submission


class EntryEventKind(enum.StrEnum):
    """One step in an entry's history (timesheet_entry_event.kind)."""

    created = "created"  # the clock made it for a shift, or a text did
    logged = "logged"  # the worker logged support that was not on the rota
    edited = "edited"  # the worker changed a pending entry
    submitted = "submitted"
    confirmed = "confirmed"  # by the leader or an Hours checker
    auto_confirmed = "auto_confirmed"  # by the clock
    adjustment_proposed = "adjustment_proposed"
    accepted = "accepted"  # the worker accepted the proposed figures
    rejected = "rejected"  # the worker rejected them: a dispute
    disputed = "disputed"  # a checker disputed the hours
    answered = "answered"  # the worker answers a dispute
    replied = "replied"  # the leader or an Hours checker replies
    settled = "settled"  # a facilitator confirmed it (with the figures they settled on)
    voided = "voided"  # a facilitator settled it as not worked
    corrected = "corrected"  # a correction was made of this (confirmed) entry
    correction = "correction"  # this entry was made as a correction of another


class EntryKind(enum.StrEnum):
    visit = "visit"  # paid by the hour
    overnight = "overnight"  # a waking night: by the hour, plus any night enhancement
    sleep_in = "sleep_in"  # a flat allowance
    cancellation = "cancellation"  # a booked visit cancelled at short notice


class Frequency(enum.StrEnum):
    weekly = "weekly"
    monthly = "monthly"


class AreaBand(enum.StrEnum):
    urban = "urban"
    rural = "rural"
    very_rural = "very_rural"


class FunderKind(enum.StrEnum):
    direct_payment = "direct_payment"
    individual_service_fund = "isf"  # individual service fund
    council = "council"
    self_funded = "self_funded"
