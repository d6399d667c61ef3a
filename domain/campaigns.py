"""Campaigns: responses that are copies of one form letter, as people edit them.

Texts are compared after normalisation (`comparison_words`): lower case, quoted reply
lines, the letterhead and greeting, and everything from the closing formula on (the
signature) removed; street addresses, e-mail addresses, links and numbers (phone numbers)
dropped; only words kept. Runs of words quoted from the hearing's own proposal
(`without_quotation`) are taken out: letters that quote the same passage are no campaign.

Two texts are copies when they share runs of words (8-word shingles, `coverage`): most of
one lies in runs shared with the other, or a good part of each does (`is_copy`). Runs
survive reworded phrases, moved paragraphs, dropped or added sentences and a personal
paragraph; letters that only share the topic share short phrases, not runs.

To stay near-linear for 50,000 responses with campaigns of thousands of copies, texts are
compared with representatives only, found through an index of sampled run keys (one
8-word shingle in `KEY_SAMPLE`, capped posting lists); the few candidates sharing most
keys are verified exactly. A text that matches a representative closely joins its group
and is not indexed itself; others become representatives, so copies that drift still
find their group. Verified pairs are joined with union-find. Identical normalised texts
are joined before any of this. Texts of fewer than `min_words` words ("Vi har ingen
merknader.") are never grouped: short answers are alike without being a campaign.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Generic, TypeVar

import numpy as np

from domain.personal_data import STREET_ADDRESS

K = TypeVar("K", bound=Hashable)

DEFAULT_THRESHOLD = 0.55
RUN_WORDS = 8
QUOTE_WORDS = 6
SHINGLE_WORDS = 3
MIN_WORDS = 20
MIN_SHARED = 20
VERIFY_TOP = 8
KEY_SAMPLE = 3
KEY_POSTINGS = 16
BOTH_SHARE = 0.33
BOTH_SHARED = 30
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


@dataclass(frozen=True)
class Overlap:
    """How much of one text lies in runs of words it shares with another: `shared` words,
    their `share` of the text and the `longest` run."""

    shared: int
    share: float
    longest: int


def coverage(a: np.ndarray, b_sorted: np.ndarray) -> Overlap:
    """The words of text `a` (its `shingle_sequence` of `RUN_WORDS`) that lie in a
    shingle shared with text `b` (its sorted distinct shingles). Runs of shared words
    survive reworded phrases and moved paragraphs; texts that only share the topic share
    short phrases, not runs."""
    length = a.size + RUN_WORDS - 1
    covered = _covered(np.isin(a, b_sorted), RUN_WORDS, length)
    count = int(covered.sum())
    if not count:
        return Overlap(0, 0.0, 0)
    edges = np.flatnonzero(np.diff(np.concatenate(([0], covered.view(np.int8), [0]))))
    longest = int((edges[1::2] - edges[::2]).max())
    return Overlap(count, count / length, longest)


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
    runs: np.ndarray  # hashed word `RUN_WORDS`-shingles in text order
    runs_sorted: np.ndarray  # the same, distinct and sorted

    def index_keys(self) -> list[int]:
        """The letter's index keys: the shingles whose hash falls in a fixed sample (one
        in `KEY_SAMPLE`), the same in every text that holds the run."""
        sampled = self.runs_sorted[self.runs_sorted % np.uint64(KEY_SAMPLE) == 0]
        return [int(key) for key in sampled]


def letter(index: int, words: Sequence[str]) -> _Letter:
    runs = shingle_sequence(words, RUN_WORDS)
    return _Letter(index, runs, np.unique(runs))


@dataclass(frozen=True)
class Signature:
    """What the grouping compares of one text: its normalised words' digest and runs, or
    nothing (`digest` None) for a text too short to be grouped."""

    id: int
    digest: bytes | None
    runs: np.ndarray

    def letter(self) -> _Letter:
        return _Letter(self.id, self.runs, np.unique(self.runs))


def signatures(
    texts: Iterable[tuple[int, str]], quoted: str = "", min_words: int = MIN_WORDS
) -> list[Signature]:
    """The signature of each (id, text), after the passages quoted from `quoted` are taken
    out (quoting the hearing's own proposal makes no campaign)."""
    quotation = np.unique(shingle_sequence(text_words(quoted), QUOTE_WORDS))
    found = []
    for key, text in texts:
        words = without_quotation(comparison_words(text), quotation)
        if len(words) < min_words:
            found.append(Signature(key, None, np.zeros(0, dtype=np.uint64)))
            continue
        digest = hashlib.sha256(" ".join(words).encode("utf-8")).digest()
        found.append(Signature(key, digest, shingle_sequence(words, RUN_WORDS)))
    return found


@dataclass
class GroupingState:
    """What the grouping remembers of the texts it has seen: the first text of each
    normalised wording, the representatives' runs, the index of sampled run keys, and
    which texts are joined (union-find, the smallest id the root). The whole of it when
    grouping at once; the slice a batch touches when grouping as responses arrive. The
    lists `new_*` say what a batch added, for the caller to store."""

    first_of_text: dict[bytes, int] = field(default_factory=dict)
    reps: dict[int, _Letter] = field(default_factory=dict)
    postings: dict[int, int | list[int]] = field(default_factory=dict)
    joined: _UnionFind = field(default_factory=lambda: _UnionFind())
    new_texts: list[tuple[bytes, int]] = field(default_factory=list)
    new_reps: list[int] = field(default_factory=list)
    new_postings: list[tuple[int, int]] = field(default_factory=list)

    def add(self, batch: Sequence[Signature], threshold: float = DEFAULT_THRESHOLD) -> None:
        """Take in `batch` (ids increasing, after every id already seen): each text joins
        the first text of its wording, or the representatives it copies."""
        distinct: list[_Letter] = []
        for text in batch:
            if text.digest is None:
                continue
            first = self.first_of_text.get(text.digest)
            if first is not None:
                self.joined.union(first, text.id)
                continue
            self.first_of_text[text.digest] = text.id
            self.new_texts.append((text.digest, text.id))
            distinct.append(text.letter())
        _join_copies(distinct, self, threshold)

    def remember(self, text: int, root: int) -> None:
        """Text `text` is (already) joined to `root`, the smallest id of its group."""
        self.joined.parent.setdefault(root, root)
        if text != root:
            self.joined.parent[text] = root

    def root(self, text: int) -> int:
        return self.joined.find(text)

    def groups(self) -> dict[int, list[int]]:
        """The joined texts by root (the smallest id), each list in id order."""
        members: dict[int, list[int]] = {}
        for index in sorted(self.joined.parent):
            members.setdefault(self.joined.find(index), []).append(index)
        return members


def group_near_duplicates(
    texts: Mapping[K, str] | Iterable[tuple[K, str]],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    min_words: int = MIN_WORDS,
    min_size: int = 2,
    quoted: str = "",
) -> list[CampaignGroup[K]]:
    """Groups of at least `min_size` copies of one form letter, largest first.

    Two texts are copies when they share runs of words (`is_copy`), after the passages
    they quote from `quoted` (the hearing's own proposal: quoting it makes no campaign)
    are taken out. Deterministic for the same input order; the same as `GroupingState`
    fed the texts in any number of batches."""
    pairs = list(texts.items()) if isinstance(texts, Mapping) else list(texts)
    keys = [key for key, _ in pairs]
    state = GroupingState()
    state.add(signatures(enumerate(text for _, text in pairs), quoted, min_words), threshold)
    groups = [
        CampaignGroup(tuple(keys[i] for i in found))
        for found in state.groups().values()
        if len(found) >= min_size
    ]
    order = {key: position for position, key in enumerate(keys)}
    groups.sort(key=lambda g: (-g.size, order[g.members[0]]))
    return groups


def similarity(a: _Letter, b: _Letter) -> tuple[Overlap, Overlap]:
    """The overlap of each text with the other, the more covered first."""
    one, other = coverage(a.runs, b.runs_sorted), coverage(b.runs, a.runs_sorted)
    return (one, other) if one.share >= other.share else (other, one)


def is_copy(more: Overlap, less: Overlap, threshold: float = DEFAULT_THRESHOLD) -> bool:
    """Two texts are copies of one letter when most of one lies in runs shared with the
    other (an added paragraph does not split them), or when a good part of each does (a
    letter cut down, reworded and given a personal paragraph)."""
    if more.share >= threshold and more.shared >= MIN_SHARED:
        return True
    return less.share >= BOTH_SHARE and less.shared >= BOTH_SHARED


def _join_copies(distinct: list[_Letter], state: GroupingState, threshold: float) -> None:
    """Union the distinct texts that are copies of each other or of a representative.

    Candidates come from an index of sampled run keys over representatives; the few
    sharing most keys are verified. A text that matches no representative closely
    becomes one, so copies that drifted still find their group; a posting list stops
    growing at `KEY_POSTINGS` (a campaign's common runs need no more representatives)."""
    postings = state.postings
    for text in distinct:
        keys = text.index_keys()
        counts: dict[int, int] = {}
        for key in keys:
            found = postings.get(key)
            for rep in found if isinstance(found, list) else () if found is None else (found,):
                counts[rep] = counts.get(rep, 0) + 1
        best = 0.0
        ranked = sorted(counts, key=lambda rep: (-counts[rep], rep))[:VERIFY_TOP]
        for rep in ranked:
            more, less = similarity(text, state.reps[rep])
            if is_copy(more, less, threshold):
                state.joined.union(rep, text.index)
            best = max(best, more.share)
        if best < REPRESENT_BELOW:
            state.reps[text.index] = text
            state.new_reps.append(text.index)
            for key in keys:
                if _post(postings, key, text.index):
                    state.new_postings.append((key, text.index))


def _post(postings: dict[int, int | list[int]], key: int, index: int) -> bool:
    """Add `index` to the key's posting list unless it is full; True if added."""
    found = postings.get(key)
    if found is None:
        postings[key] = index  # most keys belong to one text: no list for them
    elif isinstance(found, int):
        postings[key] = [found, index]
    elif len(found) < KEY_POSTINGS:
        found.append(index)
    else:
        return False
    return True


__all__ = [
    "DEFAULT_THRESHOLD",
    "KEY_POSTINGS",
    "MIN_WORDS",
    "CampaignGroup",
    "GroupingState",
    "Signature",
    "comparison_words",
    "group_near_duplicates",
    "letter_body",
    "shingle_hashes",
    "signatures",
]
