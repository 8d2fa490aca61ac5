"""Loose name matching: accents, letter case, word order and small typos do not matter.

How it works, and why this way:

* Every name is folded once (Unicode decomposition, combining marks dropped, case folded: "Jáne" is "jane") and
  split into words; a query is folded the same way, so accents and case never matter, and each query word is
  matched against any name word, so the order does not either.
* An index finds the candidates. Each contact's name is kept as its words and, for typos, every word with one
  letter deleted (its keys, a deletion neighbourhood as in SymSpell): two words one edit apart (a letter wrong,
  missing, extra, or two neighbours swapped, "Jnae" for "Jane") always share such a key, so one indexed lookup
  finds them without comparing the query with every name. A trigram table would miss swaps in short names (no
  trigram of "jnae" is in "jane"), and re-scoring every name of the account with a similarity measure grows with
  the account. On SQLite the words and keys are an FTS5 row (`NameQuery.fts`); on PostgreSQL, which has no FTS5,
  one row per word or key in a btree-indexed table (`NameQuery.lookups`). Both are computed here, from text
  folded here, so both engines find the same candidates (`NameQuery.lookups` is the one rule; `fts` spells it).
* The candidates are then scored here, on the real name words: a word typed in full beats a prefix ("jan" for
  "Janet"), which beats a word one edit away. Typos are only tried when no name matches every query word in full
  or as a prefix, so "Jon" finds the Jons, and finds "John" and "Jan" only when there is no Jon.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

__all__ = ["KeyLookup", "NameMatch", "NameQuery", "document", "fold", "words"]

MIN_TYPO_CHARS: Final = 3
"""Words shorter than this are matched in full or as a prefix only (one edit away, "al" is half the alphabet)."""
FULL: Final = 1.0
PREFIX: Final = 0.85
TYPO: Final = 0.6
LONGEST_WORD: Final = 40
_WORD = re.compile(r"[^\W_]+")

NameMatch = Literal["exact", "typo"]
"""How a name query matched: every word in full or as a prefix, or (only when nothing did) with small typos."""


def fold(text: str) -> str:
    """`text` without accents, in folded case ("Jáne Müller-Strauß" is "jane muller-strauss")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def words(text: str) -> list[str]:
    """The folded words of `text`, in order (punctuation and spaces separate them), each at most `LONGEST_WORD`
    letters: a name's and a query's alike, so a longer word still matches itself and its prefixes, and a hostile
    name cannot make thousands of keys thousands of letters long."""
    return [word[:LONGEST_WORD] for word in _WORD.findall(fold(text))]


def _deletions(word: str) -> set[str]:
    return {word[:index] + word[index + 1 :] for index in range(len(word))} if len(word) >= MIN_TYPO_CHARS else set()


def document(first_name: str | None, last_name: str | None) -> tuple[str, str]:
    """A name as the index keeps it: its words, and the keys that find it despite a typo (each space-separated)."""
    found = words(f"{first_name or ''} {last_name or ''}")
    keys = sorted({key for word in found for key in _deletions(word)} - set(found))
    return " ".join(found), " ".join(keys)


def _within_one_edit(a: str, b: str) -> bool:
    """Whether `b` is `a` with one letter changed, added, removed, or two neighbours swapped."""
    if a == b or abs(len(a) - len(b)) > 1:
        return a == b
    if len(a) == len(b):
        diff = [index for index in range(len(a)) if a[index] != b[index]]
        if len(diff) == 1:
            return True
        first, second = diff[0], diff[-1]
        return len(diff) == 2 and second == first + 1 and a[first] == b[second] and a[second] == b[first]
    shorter, longer = (a, b) if len(a) < len(b) else (b, a)
    index = next((i for i in range(len(shorter)) if shorter[i] != longer[i]), len(shorter))
    return shorter[index:] == longer[index + 1 :]


def _word_score(query_word: str, name_words: Sequence[str], *, typos: bool) -> float:
    best = 0.0
    for word in name_words:
        if word == query_word:
            return FULL
        if word.startswith(query_word):
            best = max(best, PREFIX)
        elif typos and len(query_word) >= MIN_TYPO_CHARS and _within_one_edit(query_word, word):
            best = max(best, TYPO)
    return best


@dataclass(frozen=True)
class KeyLookup:
    """How one query word finds a name: a name word starting with `prefix`, or a name word or key in `near`."""

    prefix: str
    near: tuple[str, ...]


@dataclass(frozen=True)
class NameQuery:
    """A name as searched: its folded words."""

    words: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> NameQuery:
        """The query for `text`; ValueError when it has no letters or digits to search for."""
        found = tuple(dict.fromkeys(words(text)))
        if not found:
            raise ValueError("has no letters or digits to search for")
        return cls(found)

    def lookups(self, *, typos: bool) -> list[KeyLookup]:
        """What finds the candidates, one lookup per query word (a candidate satisfies every one): a name word
        starting with the query word, or with `typos` also a name word or key equal to one of its near keys."""
        return [
            KeyLookup(word, tuple(sorted({word} | _deletions(word))) if typos and len(word) >= MIN_TYPO_CHARS else ())
            for word in self.words
        ]

    def fts(self, *, typos: bool) -> str:
        """The FTS5 MATCH expression of `lookups` (a prefix in the `words` column, a near key in either)."""
        groups = []
        for lookup in self.lookups(typos=typos):
            prefix = f'words : "{lookup.prefix}"*'
            if not lookup.near:
                groups.append(prefix)
                continue
            near = " OR ".join(f'"{key}"' for key in lookup.near)
            groups.append(f"({prefix} OR {near})")
        return " AND ".join(groups)

    def score(self, first_name: str | None, last_name: str | None, *, typos: bool) -> float | None:
        """How well the name matches (1.0: every word in full), or None when some query word is not in it."""
        name_words = words(f"{first_name or ''} {last_name or ''}")
        total = 0.0
        for word in self.words:
            score = _word_score(word, name_words, typos=typos)
            if not score:
                return None
            total += score
        return round(total / len(self.words), 4)
