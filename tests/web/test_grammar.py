"""careteams.web.grammar: articles and plurals the pages use."""

from __future__ import annotations

import pytest

from careteams.web.grammar import a_or_an, count_of, plural, with_article


@pytest.mark.parametrize("word, article", [
    ("advocate member", "an"), ("Advocate member", "an"), ("investor member", "an"),
    ("worker member", "a"), ("supported member", "a"), ("hour", "an"), ("user", "a"),
    ("unique visit", "a"), ("umbrella", "an"), ("one-off visit", "a"), ("SMS", "an"),
    ("", "a"),
])
def test_a_or_an(word, article):
    assert a_or_an(word) == article


def test_with_article_reads_as_a_phrase():
    assert with_article("advocate member") == "an advocate member"
    assert with_article("worker member") == "a worker member"


@pytest.mark.parametrize("word, n, expected", [
    ("visit", 1, "visit"), ("visit", 0, "visits"), ("visit", 2, "visits"),
    ("match", 2, "matches"), ("dispute", 3, "disputes"), ("reply", 2, "replies"),
    ("day", 2, "days"), ("person", 2, "people"), ("invitation", 1, "invitation"),
])
def test_plural(word, n, expected):
    assert plural(word, n) == expected


def test_count_of():
    assert count_of(0, "visit") == "no visits"
    assert count_of(1, "visit") == "1 visit"
    assert count_of(4, "entry") == "4 entries"
    assert count_of(2, "hat offer") == "2 hat offers"
    assert count_of(2, "criterion", "criteria") == "2 criteria"
