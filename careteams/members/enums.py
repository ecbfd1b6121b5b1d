"""Enums for co-ops, people and the register: no Flask, no database."""

from __future__ import annotations

import enum


class MemberClass(enum.StrEnum):
    supported = "supported"
    worker = "worker"
    advocate = "advocate"
    investor = "investor"


class MembershipStatus(enum.StrEnum):
    applicant = "applicant"
    active = "active"
    left = "left"


class StaffRoleName(enum.StrEnum):
    facilitator = "facilitator"
    secretary = "secretary"
    admin = "admin"


class ContactChannel(enum.StrEnum):
    sms = "sms"
    email = "email"
