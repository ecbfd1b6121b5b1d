"""Matching's enums: plain values, no Flask and no database, so rules and
permissions can use them. models.py imports them from here."""

from __future__ import annotations

import enum


class EmploymentType(enum.StrEnum):
    employed = "employed"  # on the co-op's payroll
    independent = "independent"  # self-employed, sets a usual rate


class CheckKind(enum.StrEnum):
    enhanced_dbs = "enhanced_dbs"
    right_to_work = "right_to_work"
    training = "training"


class VacancyStatus(enum.StrEnum):
    open = "open"
    paused = "paused"
    filled = "filled"
    closed = "closed"


class MatchState(enum.StrEnum):
    invited = "invited"  # the team side invited the worker; the worker answers
    asked = "asked"  # the worker asked to join; the team side answers
    declined = "declined"  # the answering side said no
    review = "review"  # mutual yes, waiting for a facilitator
    introduction = "introduction"  # approved: a call or meeting, date recorded
    trial = "trial"  # the worker is in the team on trial
    active = "active"  # both confirmed after the trial
    withdrawn = "withdrawn"  # either side stepped back


class Side(enum.StrEnum):
    team = "team"
    worker = "worker"
    facilitator = "facilitator"
