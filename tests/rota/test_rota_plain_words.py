"""Words the rota pages show, in sentences short enough to follow on a phone
(the browser journeys' plain-language check: no sentence over 30 words)."""

import re

from careteams.rota import rules

MAX_WORDS = 30


def test_clock_change_rule_is_in_short_sentences():
    sentences = [s for s in re.split(r"(?<=[.!?:])\s+", rules.CLOCK_CHANGE_RULE) if s.strip()]
    assert sentences and all(len(s.split()) <= MAX_WORDS for s in sentences), sentences
    assert "overnight or sleep-in visit keeps its end on the clock" in rules.CLOCK_CHANGE_RULE
