"""The register's pure rules: which steps a membership may take, which dates can be, and
share amounts typed in pounds."""

from __future__ import annotations

from datetime import date

import pytest

from careteams.members.enums import MembershipStatus as S
from careteams.members.rules import (
    format_pounds,
    joining_date_refusal,
    leaving_date_refusal,
    parse_pounds,
    status_step_refusal,
)


@pytest.mark.parametrize(("now", "new", "allowed"), [
    (S.applicant, S.active, True), (S.active, S.left, True), (S.left, S.active, True),
    (S.applicant, S.applicant, True),  # nothing to do
    (S.active, S.active, False), (S.left, S.left, False), (S.applicant, S.left, False),
    (S.active, S.applicant, False), (S.left, S.applicant, False),
])
def test_membership_steps(now, new, allowed):
    assert (status_step_refusal(now, new) is None) is allowed


def test_refusals_in_plain_words():
    assert status_step_refusal(S.active, S.active) == "This person is already a member: they cannot be admitted twice."
    assert "cannot leave" in status_step_refusal(S.applicant, S.left)


def test_dates():
    today = date(2026, 12, 4)
    assert joining_date_refusal(today, today) is None
    assert joining_date_refusal(date(2026, 12, 5), today) == "The joining date cannot be in the future."
    assert "before the co-op started (1 January 2020)" in joining_date_refusal(date(2019, 5, 1), today, date(2020, 1, 1))
    assert "rejoin only from that day on" in joining_date_refusal(date(2026, 1, 1), today, None, date(2026, 2, 1))
    assert leaving_date_refusal(date(2026, 3, 1), date(2026, 3, 1), today) is None
    assert leaving_date_refusal(date(2026, 2, 28), date(2026, 3, 1), today) == \
        "They cannot leave before they joined (1 March 2026)."
    assert leaving_date_refusal(date(2026, 12, 5), None, today) == "The leaving date cannot be in the future."


@pytest.mark.parametrize(("typed", "pence"), [
    ("£1.00", 100), ("1", 100), ("  £ 2.5 ", 250), ("0", 0), ("0.05", 5), ("£1,000", 100000), ("9999999.99", 999999999),
])
def test_parse_pounds(typed, pence):
    assert parse_pounds(typed) == pence


@pytest.mark.parametrize("typed", ["", "-1", "1.234", "ten", "£", "1e3", "10000000", "1.2.3"])
def test_parse_pounds_refuses(typed):
    with pytest.raises(ValueError, match="Enter an amount in pounds"):
        parse_pounds(typed)


def test_format_pounds():
    assert [format_pounds(p) for p in (0, 5, 100, 123456)] == ["£0.00", "£0.05", "£1.00", "£1,234.56"]
