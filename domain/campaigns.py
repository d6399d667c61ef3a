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
from typing import Generic, TypeVar

import numpy as np

from domain.personal_data import STREET_ADDRESS

K = TypeVar("K", bound=Hashable)

DEFAULT_THRESHOLD = 0.55
VERIFY_WORDS = 8
QUOTE_WORDS = 6
NUM_PERM = 128
SHINGLE_WORDS = 3
MIN_WORDS = 20
MIN_SHARED = 20
LSH_ROWS = 4
VERIFY_TOP = 8
REPRESENT_BELOW = 0.85
HEAD_LINE_WORDS = 6

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
        if not kept and _is_head_line(line):
            continue
        kept.append(line)
    return "\n".join(kept).strip()


def _is_head_line(line: str) -> bool:
    """A line before the letter proper: blank, a greeting, or a short line that is no
    sentence (the sender's name, address or phone as a letterhead)."""
    stripped = line.strip()
    if not stripped or _GREETING.match(line):
        return True
    return len(stripped.split()) <= HEAD_LINE_WORDS and stripped[-1] not in ".!?"


def comparison_words(text: str) -> list[str]:
    """The words of `text` that count when comparing form letters: the letter body
    without street addresses, e-mail addresses, links and numbers (phone numbers)."""
    return text_words(letter_body(text))


def text_words(body: str) -> list[str]:
    """The lower-case words of `body`, without street addresses, e-mail addresses, links
    and numbers."""
    if any(c.isdigit() for c in body):
        body = STREET_ADDRESS.sub(" ", body)
    if "@" in body:
        body = _EMAIL.sub(" ", body)
    if "://" in body or "www." in body.lower():
        body = _URL.sub(" ", body)
    return [word.lower() for word in _WORD.findall(body)]


@lru_cache(maxsize=1 << 16)
def _word_hash(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "big")


_MIX = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit constant (golden ratio)


def shingle_sequence(words: Sequence[str], size: int) -> np.ndarray:
    """The 64-bit hashes of the word `size`-shingles of `words` in text order (one
    shingle of all words when there are fewer)."""
    if not words:
        return np.zeros(0, dtype=np.uint64)
    hashes = np.fromiter((_word_hash(w) for w in words), dtype=np.uint64, count=len(words))
    width = max(len(words) - size + 1, 1)
    combined = np.zeros(width, dtype=np.uint64)
    for offset in range(min(size, len(words))):
        combined = combined * _MIX + hashes[offset : offset + width]  # wraps modulo 2**64
    return combined


def _covered(hit: np.ndarray, size: int, length: int) -> np.ndarray:
    """Which of `length` words lie in a shingle (of `size` words) marked in `hit`."""
    covered = np.zeros(max(length, hit.size + size - 1), dtype=bool)
    for offset in range(size):
        covered[offset : offset + hit.size] |= hit
    return covered[:length]


def without_quotation(words: list[str], quoted: np.ndarray) -> list[str]:
    """`words` without the runs of `QUOTE_WORDS` or more words that also occur in the
    quoted text (`quoted`: its sorted `shingle_sequence` of `QUOTE_WORDS`)."""
    if not quoted.size or len(words) < QUOTE_WORDS:
        return words
    hit = np.isin(shingle_sequence(words, QUOTE_WORDS), quoted)
    if not hit.any():
        return words
    covered = _covered(hit, QUOTE_WORDS, len(words))
    return [word for word, inside in zip(words, covered, strict=True) if not inside]


def coverage(a: np.ndarray, b_sorted: np.ndarray) -> tuple[int, float]:
    """The words of text `a` (its `shingle_sequence` of `VERIFY_WORDS`) that lie in a
    shingle shared with text `b` (its sorted distinct shingles): how many, and which share
    of `a`. Runs of shared words survive reworded phrases and moved paragraphs; texts
    that only share the topic share short phrases, not runs."""
    length = a.size + VERIFY_WORDS - 1
    hit = np.isin(a, b_sorted, assume_unique=False)
    count = int(_covered(hit, VERIFY_WORDS, length).sum())
    return count, count / length


def shingle_hashes(words: Sequence[str], size: int = SHINGLE_WORDS) -> np.ndarray:
    """The distinct 32-bit hashes of the word `size`-shingles of `words` (one shingle of
    all words when there are fewer). Computed with numpy from cached word hashes: hashing
    each shingle's bytes costs most of the time on 50,000 texts."""
    if not words:
        return np.zeros(0, dtype=np.uint32)
    combined = shingle_sequence(words, size)
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


@dataclass(frozen=True)
class _Letter:
    index: int
    shingles: np.ndarray  # distinct hashed word 3-shingles, for MinHash
    runs: np.ndarray  # word `VERIFY_WORDS`-shingles in text order
    runs_sorted: np.ndarray


def group_near_duplicates(
    texts: Mapping[K, str] | Iterable[tuple[K, str]],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    num_perm: int = NUM_PERM,
    shingle_words: int = SHINGLE_WORDS,
    min_words: int = MIN_WORDS,
    min_size: int = 2,
    quoted: str = "",
) -> list[CampaignGroup[K]]:
    """Groups of at least `min_size` copies of one form letter, largest first.

    A text joins a group when at least `threshold` of its words, or of the other text's,
    lie in runs it shares with one of the group's texts (`coverage`), after the passages
    it quotes from `quoted` (the hearing's own proposal: quoting it makes no campaign) are
    taken out. Deterministic for the same input order."""
    pairs = list(texts.items()) if isinstance(texts, Mapping) else list(texts)
    keys = [key for key, _ in pairs]
    uf = _UnionFind()
    quotation = np.unique(shingle_sequence(text_words(quoted), QUOTE_WORDS))
    first_of_text: dict[bytes, int] = {}
    distinct: list[_Letter] = []
    for index, (_, text) in enumerate(pairs):
        words = without_quotation(comparison_words(text), quotation)
        if len(words) < min_words:
            continue
        digest = hashlib.sha256(" ".join(words).encode("utf-8")).digest()
        if digest in first_of_text:
            uf.union(first_of_text[digest], index)
            continue
        first_of_text[digest] = index
        runs = shingle_sequence(words, VERIFY_WORDS)
        distinct.append(_Letter(index, shingle_hashes(words, shingle_words), runs, np.unique(runs)))
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


def similarity(a: _Letter, b: _Letter) -> tuple[int, float]:
    """Words in shared runs and their share, of whichever text is more covered."""
    return max(coverage(a.runs, b.runs_sorted), coverage(b.runs, a.runs_sorted), key=lambda c: c[1])


def _join_similar(distinct: list[_Letter], uf: _UnionFind, threshold: float, num_perm: int) -> None:
    """Union the distinct texts that are copies of each other (`similarity`)."""
    if len(distinct) < 2:
        return
    from datasketch import MinHash, MinHashLSH  # imports scipy: only when grouping

    signatures = MinHash.bulk((d.shingles for d in distinct), num_perm=num_perm, hashfunc=int)
    # Candidates come generously from the index (bands of few rows: pairs of a low
    # Jaccard similarity still meet); the closest few are verified exactly.
    lsh = MinHashLSH(num_perm=num_perm, params=(num_perm // LSH_ROWS, LSH_ROWS))
    reps: dict[int, tuple[_Letter, np.ndarray]] = {}
    for letter, signature in zip(distinct, signatures, strict=True):
        found = lsh.query(signature)
        best = 0.0
        if found:
            values = np.stack([reps[c][1] for c in found])
            estimate = (values == signature.hashvalues).mean(axis=1)
            for position in np.argsort(-estimate, kind="stable")[:VERIFY_TOP]:
                candidate = found[position]
                shared, share = similarity(letter, reps[candidate][0])
                if share >= threshold and shared >= MIN_SHARED:
                    uf.union(candidate, letter.index)
                best = max(best, share)
        if best < REPRESENT_BELOW:
            lsh.insert(letter.index, signature)
            reps[letter.index] = (letter, signature.hashvalues)


__all__ = [
    "DEFAULT_THRESHOLD",
    "MIN_WORDS",
    "CampaignGroup",
    "comparison_words",
    "group_near_duplicates",
    "letter_body",
    "shingle_hashes",
]
