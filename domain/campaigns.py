"""Campaigns: responses whose text is a near-identical form letter, found with MinHash/LSH.

Texts are compared after normalisation (`comparison_words`): lower case, quoted reply
lines, the greeting line and everything from the closing formula on (the signature)
removed, e-mail addresses, links and numbers dropped, only words kept. Each text becomes a
set of word 3-shingles (hashed) and a MinHash signature (datasketch); an LSH index (threshold ~0.8
Jaccard) proposes candidates, each candidate is verified by the estimated Jaccard
similarity, and verified pairs are joined with union-find.

To stay near-linear for 50,000 responses with campaigns of thousands of copies, the index
holds representatives only: a text that matches an indexed text closely joins its group
and is not indexed itself; a text that matches nothing, or matches only loosely (below
the midpoint between the threshold and 1), is indexed. Identical normalised texts are
joined before any hashing. Texts of fewer than `min_words` words ("Vi har ingen
merknader.") are never grouped: short answers are alike without being a campaign.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Generic, TypeVar

import numpy as np

K = TypeVar("K", bound=Hashable)

DEFAULT_THRESHOLD = 0.8
NUM_PERM = 128
SHINGLE_WORDS = 3
MIN_WORDS = 20
CANDIDATE_MARGIN = 0.15

_QUOTED_LINE = re.compile(r"(?m)^[ \t]*>.*$")
_GREETING = re.compile(
    r"^\s*(?:hei|hallo|god\s+dag|kjære|til|att|attn|hei\s+helsedirektoratet)\b[^.!?]{0,60}[,:!]?\s*$",
    re.IGNORECASE,
)
_CLOSING = re.compile(
    r"^\s*(?:med\s+vennlig\s+hilsen|vennlig\s+hilsen|vennlige\s+hilsener|beste\s+hilsen|"
    r"mvh|hilsen|hilsener|med\s+venleg\s+helsing|venleg\s+helsing|helsing|"
    r"med\s+hilsen)\b",
    re.IGNORECASE,
)
_SIGNATURE_SEPARATOR = re.compile(r"^--\s*$")
_EMAIL = re.compile(r"[^\s@]+@[^\s@]+")
_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+(?:[-'][^\W\d_]+)*")


def letter_body(text: str) -> str:
    """The letter without quoted reply lines, its greeting line and everything from the
    closing formula on (the signature)."""
    text = unicodedata.normalize("NFKC", text)
    if ">" in text:
        text = _QUOTED_LINE.sub("", text)
    kept: list[str] = []
    for line in text.splitlines():
        if _CLOSING.match(line) or _SIGNATURE_SEPARATOR.match(line):
            break
        if not kept and (not line.strip() or _GREETING.match(line)):
            continue
        kept.append(line)
    return "\n".join(kept).strip()


def comparison_words(text: str) -> list[str]:
    """The words of `text` that count when comparing form letters."""
    body = letter_body(text)
    if "@" in body:
        body = _EMAIL.sub(" ", body)
    if "://" in body or "www." in body.lower():
        body = _URL.sub(" ", body)
    return [word.lower() for word in _WORD.findall(body)]


@lru_cache(maxsize=1 << 16)
def _word_hash(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "big")


_MIX = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit constant (golden ratio)


def shingle_hashes(words: Sequence[str], size: int = SHINGLE_WORDS) -> np.ndarray:
    """The distinct 32-bit hashes of the word `size`-shingles of `words` (one shingle of
    all words when there are fewer). Computed with numpy from cached word hashes: hashing
    each shingle's bytes costs most of the time on 50,000 texts."""
    if not words:
        return np.zeros(0, dtype=np.uint32)
    hashes = np.fromiter((_word_hash(w) for w in words), dtype=np.uint64, count=len(words))
    width = max(len(words) - size + 1, 1)
    combined = np.zeros(width, dtype=np.uint64)
    for offset in range(min(size, len(words))):
        combined = combined * _MIX + hashes[offset : offset + width]  # wraps modulo 2**64
    folded = (combined >> np.uint64(32)) ^ (combined & np.uint64(0xFFFFFFFF))
    return np.unique(folded.astype(np.uint32))


@dataclass(frozen=True)
class CampaignGroup(Generic[K]):
    """Responses that carry the same form letter; `members` in input order."""

    members: tuple[K, ...]

    @property
    def size(self) -> int:
        return len(self.members)


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, item: int) -> int:
        parent = self.parent.setdefault(item, item)
        while parent != item:
            grand = self.parent[parent]
            self.parent[item] = grand  # path halving
            item, parent = parent, grand
        return item

    def union(self, a: int, b: int) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            self.parent[max(root_a, root_b)] = min(root_a, root_b)


def group_near_duplicates(
    texts: Mapping[K, str] | Iterable[tuple[K, str]],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    num_perm: int = NUM_PERM,
    shingle_words: int = SHINGLE_WORDS,
    min_words: int = MIN_WORDS,
    min_size: int = 2,
) -> list[CampaignGroup[K]]:
    """Groups of at least `min_size` near-identical texts (estimated Jaccard similarity of
    word shingles >= `threshold`), largest first. Deterministic for the same input order."""
    pairs = list(texts.items()) if isinstance(texts, Mapping) else list(texts)
    keys = [key for key, _ in pairs]
    uf = _UnionFind()
    first_of_text: dict[bytes, int] = {}
    distinct: list[tuple[int, np.ndarray]] = []
    for index, (_, text) in enumerate(pairs):
        words = comparison_words(text)
        if len(words) < min_words:
            continue
        digest = hashlib.sha256(" ".join(words).encode("utf-8")).digest()
        if digest in first_of_text:
            uf.union(first_of_text[digest], index)
            continue
        first_of_text[digest] = index
        distinct.append((index, shingle_hashes(words, shingle_words)))
    _join_similar(distinct, uf, threshold, num_perm)
    members: dict[int, list[int]] = {}
    for index in list(uf.parent):
        members.setdefault(uf.find(index), []).append(index)
    groups = [
        CampaignGroup(tuple(keys[i] for i in sorted(found)))
        for found in members.values()
        if len(found) >= min_size
    ]
    order = {key: position for position, key in enumerate(keys)}
    groups.sort(key=lambda g: (-g.size, order[g.members[0]]))
    return groups


def _join_similar(
    distinct: list[tuple[int, np.ndarray]], uf: _UnionFind, threshold: float, num_perm: int
) -> None:
    """Union the distinct texts whose estimated Jaccard similarity reaches `threshold`."""
    if len(distinct) < 2:
        return
    from datasketch import MinHash, MinHashLSH  # imports scipy: only when grouping

    # A text that matches but is not close to any representative becomes one too, so
    # copies that drifted (a sentence dropped, another added) still find their group.
    represent_below = (1.0 + threshold) / 2
    signatures = MinHash.bulk((h for _, h in distinct), num_perm=num_perm, hashfunc=int)
    # The index proposes candidates generously (a lower threshold, misses weighted over
    # false candidates): every candidate is verified, a missed pair is lost for good.
    lsh = MinHashLSH(
        threshold=max(threshold - CANDIDATE_MARGIN, 0.3), num_perm=num_perm, weights=(0.2, 0.8)
    )
    by_key: dict[int, Any] = {}
    for (index, _), signature in zip(distinct, signatures, strict=True):
        best = 0.0
        for candidate in lsh.query(signature):
            similarity = signature.jaccard(by_key[candidate])
            if similarity >= threshold:
                uf.union(candidate, index)
            best = max(best, similarity)
        if best < represent_below:
            lsh.insert(index, signature)
            by_key[index] = signature


__all__ = [
    "DEFAULT_THRESHOLD",
    "MIN_WORDS",
    "CampaignGroup",
    "comparison_words",
    "group_near_duplicates",
    "letter_body",
    "shingle_hashes",
]
