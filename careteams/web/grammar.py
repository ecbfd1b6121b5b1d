"""Small words said right: "an advocate member", "1 visit", "3 visits".

Used by the home page and the navigation (registered as Jinja filters
`a_or_an`, `with_article`, `plural` and `count_of` in careteams/web/nav.py).
"""

from __future__ import annotations

# Words that start with a vowel letter but a consonant sound ("a user", "a one-off"),
# and words that start with a consonant letter but a vowel sound ("an hour").
_CONSONANT_SOUND = ("uni", "use", "usu", "uti", "eu", "one", "once", "ubiq", "ur")
_VOWEL_SOUND = ("hour", "honest", "honour", "heir")
_IRREGULAR = {"person": "people", "child": "children", "is": "are", "was": "were", "has": "have"}


def a_or_an(word: str) -> str:
    """The article for `word`: "an" before a vowel sound, else "a"."""
    text = (word or "").strip().lower()
    if not text:
        return "a"
    if text.startswith(_VOWEL_SOUND):
        return "an"
    if text.startswith(_CONSONANT_SOUND):
        return "a"
    if text[0] in "aeiou":
        return "an"
    # Letters said as letters: "an SMS", "an MP".
    if (word.strip()[:2].isupper() and len(word.strip()) > 1) and text[0] in "fhlmnrsx":
        return "an"
    return "a"


def with_article(word: str) -> str:
    """`word` with its article: "an advocate member", "a worker member"."""
    return f"{a_or_an(word)} {word}"


def plural(word: str, n: int, many: str | None = None) -> str:
    """`word` for `n` things: plural("visit", 2) == "visits"; `many` for irregular words."""
    if n == 1:
        return word
    if many is not None:
        return many
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    lower = word.lower()
    if lower.endswith(("s", "sh", "ch", "x", "z")):
        return word + "es"
    if lower.endswith("y") and len(lower) > 1 and lower[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def count_of(n: int, word: str, many: str | None = None) -> str:
    """"1 visit", "2 visits", "no visits"."""
    return f"{'no' if n == 0 else n} {plural(word, n, many)}"
