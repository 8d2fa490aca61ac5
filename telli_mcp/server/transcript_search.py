"""Searching call transcripts: the one rule for what matches a query, and the snippets shown for a match.

The rule (`Query.snippets`): the query is split into words at whitespace, and a transcript matches when every word
occurs in it, anywhere, as a substring, ignoring case and accents ("preis" finds "Preisliste", "cafe" finds
"Café", "strasse" finds "Straße"). The words need not be next to each other or in order. What is searched is
what was said: the transcript as get_call_transcript shows it (cleaned of control, bidi and invisible characters),
without the speaker labels ("Agent: ", "Contact: ") that start its lines, so "contact" does not match every call.

Pure: no telli, no MCP. The caller renders the transcript (`server.transcripts.render_transcript`) and fences the
snippets, which are pieces of that cleaned text.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass

from telli_mcp.text import plain_line

__all__ = ["MAX_QUERY_CHARS", "SNIPPETS_PER_CALL", "SNIPPET_CONTEXT", "Query", "normalise_query"]

MAX_QUERY_CHARS = 200
SNIPPETS_PER_CALL = 3
SNIPPET_CONTEXT = 80
"""Characters shown on each side of a word found."""
ELLIPSIS = "…"
_FINDS_PER_WORD = 200
"""Occurrences of one word looked at when choosing snippets: a word found thousands of times costs no more."""
_WORD_CHARS = 20
"""A word cut at a snippet's edge is dropped when it is at most this long (a longer one is shown cut)."""
_SPACE = re.compile(r"\s")
_LABEL = re.compile(r"^(?:Agent|Contact|User|Other \([^\n]{0,20}?\)): ", re.MULTILINE)
"""A speaker label at the start of a transcript line (`render_transcript`'s, or telli's own in a plain transcript)."""
_MASK = "\x00"
"""Stands in for a label's characters: never in a query (`plain_line` removes control characters)."""


def normalise_query(raw: str) -> str:
    """The query as searched: control and invisible characters removed, whitespace runs made one space, trimmed.

    A ValueError (for the argument's validator) when nothing is left to search for.
    """
    query = " ".join(plain_line(raw).split())
    if not query:
        raise ValueError("has nothing to search for; give a word or a few, e.g. pricing")
    if not "".join(_fold(word) for word in query.split()).strip():
        raise ValueError(f"{query!r} has nothing left to search for once accents are set aside")
    return query


@functools.cache
def _fold_char(char: str) -> str:
    """`char` as matching compares it: case-folded, compatibility-decomposed (ﬁ is fi, ² is 2), accents dropped."""
    decomposed = unicodedata.normalize("NFKD", char.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _fold(text: str) -> str:
    return text.lower() if text.isascii() else "".join(map(_fold_char, text))


def _origins(text: str) -> list[int]:
    """For each character of `_fold(text)`, the index of the character of `text` it came from."""
    if text.isascii():
        return list(range(len(text)))
    return [index for index, char in enumerate(text) for _ in _fold_char(char)]


@dataclass(frozen=True)
class Query:
    """A normalised query (`normalise_query`) as matching uses it: its distinct folded words, longest first."""

    text: str
    words: tuple[str, ...]

    @classmethod
    def parse(cls, query: str) -> Query:
        text = normalise_query(query)
        folded = (_fold(word).strip() for word in text.split())
        words = sorted(dict.fromkeys(word for word in folded if word), key=len, reverse=True)
        return cls(text, tuple(words))

    def key(self, *filters: str | None) -> str:
        """A digest of what this search matches (and of `filters`): a cursor continues the same search only."""
        spelled = json.dumps([sorted(self.words), *filters], ensure_ascii=True)
        return hashlib.sha256(spelled.encode()).hexdigest()[:16]

    def snippets(self, transcript: str) -> list[str] | None:
        """None when `transcript` does not match; else up to `SNIPPETS_PER_CALL` pieces of it around the words
        found, in transcript order, each word shown before any word is shown twice."""
        masked = _LABEL.sub(lambda label: _MASK * len(label.group()), transcript)
        searched = _fold(masked)
        if not all(word in searched for word in self.words):
            return None
        origins = _origins(masked)  # the mask keeps every index, and folds to one character per character
        windows = _windows(searched, self.words, origins, len(transcript))
        return [_piece(transcript, start, end) for start, end in windows]


def _windows(searched: str, words: tuple[str, ...], origins: list[int], length: int) -> list[tuple[int, int]]:
    """Spans of the transcript around occurrences of the words, taken round-robin (first of each word, then the
    second of each, ...) so each word is shown if it can be; an occurrence already inside a span is passed over.
    Spans that touch are merged."""
    spans: list[tuple[int, int]] = []
    found = {word: searched.find(word) for word in words}
    for _ in range(_FINDS_PER_WORD):
        if len(spans) >= SNIPPETS_PER_CALL or all(at < 0 for at in found.values()):
            break
        for word in words:
            at = found[word]
            if at < 0 or len(spans) >= SNIPPETS_PER_CALL:
                continue
            first, last = origins[at], origins[at + len(word) - 1] + 1
            if not any(start <= first and last <= end for start, end in spans):
                spans.append((max(0, first - SNIPPET_CONTEXT), min(length, last + SNIPPET_CONTEXT)))
            found[word] = searched.find(word, at + len(word))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _piece(transcript: str, start: int, end: int) -> str:
    """The transcript from `start` to `end`, without the word cut at either edge, marked where it goes on."""
    piece = transcript[start:end]
    if start > 0 and not transcript[start - 1].isspace():
        first = _SPACE.search(piece, 0, _WORD_CHARS)
        piece = piece[first.end() :] if first else piece
    if end < len(transcript) and not transcript[end].isspace():
        last = max((space.start() for space in _SPACE.finditer(piece, len(piece) - _WORD_CHARS)), default=-1)
        piece = piece[:last] if last >= 0 else piece
    before, newline, last_line = piece.rpartition("\n")
    if newline and _LABEL.fullmatch(last_line.strip() + " "):
        piece = before  # a speaker label whose words are cut off says nothing
    head = ELLIPSIS if start > 0 else ""
    tail = ELLIPSIS if end < len(transcript) else ""
    return f"{head}{piece.strip()}{tail}"
