"""The one masking of a private person's response: the export and the public
høringsoppsummering both call `ResponseMasker`.

`ResponseMasker.for_response` reads every text of the response (header lines, body,
attachment text, file names) once to learn who is named in it: the sender (display name,
or the name an address such as kari.nordmann@... gives), and the names found by
`domain.name_finding` (signature, forwarded and quoted senders, third parties next to
contact details). `mask(text)` then replaces, in any of those texts:
1. structured identifiers (`domain.personal_data`): e-mail addresses, fødselsnummer and
   D-nummer, birth dates, street addresses, phone numbers;
2. every whole name found, in all its variants (`domain.masking.PrivateMask`: either
   order, "Etternavn, Fornavn", initials, the surname alone when capitalised);
3. a first name alone, in the signature and greeting and right before contact details.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from domain.masking import NAME_MASK, PrivateMask, mask_people, mask_where_signed
from domain.name_finding import NAME_WORD, FoundName, find_names, is_name_word
from domain.personal_data import mask_identifiers

_BEFORE_PLACEHOLDER = (
    r"(?=[ \t]*(?:,|\(|:|-|–|på|tlf\.?|telefon|mobil|e-post|epost|mail)?[ \t]*"
    r"(?:<?\[(?:telefonnummer|e-postadresse|adresse) skjermet\]))"
)


# "Barnet mitt, Emma [navn skjermet]": a given name before a masked surname (a child, a
# spouse); not at the start of a sentence or line, where a capital says nothing.
_GIVEN_BEFORE_MASK = re.compile(
    rf"(?<=[a-zæøåA-ZÆØÅ,;:(] )({NAME_WORD})[ \t]+(?={re.escape(NAME_MASK)})"
)


def _given_name(match: re.Match[str]) -> str:
    return "" if is_name_word(match.group(1)) else match.group(0)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _completed_first_names(found: list[FoundName], texts: list[str]) -> list[FoundName]:
    """A first name signed alone ("Frøydis") followed by a surname elsewhere in the
    response ("Høringssvar – Frøydis Nordmann-Øverås") gives that whole name."""
    completed: list[FoundName] = []
    for single in {f.name for f in found if f.single}:
        pattern = re.compile(rf"(?<!\w){re.escape(single)}[ \t]+{NAME_WORD}(?![\w-])")
        for text in texts:
            completed += [FoundName(m.group(0)) for m in pattern.finditer(text)]
    return completed


@dataclass(frozen=True)
class ResponseMasker:
    """Masks everything personal in one private person's response."""

    people: tuple[PrivateMask, ...]
    first_names: tuple[re.Pattern[str], ...]
    # The response's own texts with their identifiers masked, as `for_response` read
    # them: `mask` of one of those texts does not mask its identifiers twice.
    identified: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def for_response(
        cls, sender_name: str | None, sender_address: str | None, texts: Iterable[str]
    ) -> ResponseMasker:
        sender = PrivateMask.for_sender(sender_name, sender_address)
        normalised = [_nfc(text) for text in texts]
        masked = [mask_identifiers(text) for text in normalised]
        found: list[FoundName] = [name for text in masked for name in find_names(text)]
        found += _completed_first_names(found, masked)
        whole = sorted(
            {f.name for f in found if not f.single}, key=lambda n: (-len(n), n.casefold())
        )
        single = sorted({f.name for f in found if f.single}, key=str.casefold)
        people = (sender, *(PrivateMask(name=name, address=None) for name in whole))
        first_names = tuple(re.compile(rf"(?<!\w){re.escape(n)}(?!\w)") for n in single)
        identified = dict(zip(normalised, masked, strict=True))
        return cls(people=people, first_names=first_names, identified=identified)

    def mask(self, text: str) -> str:
        """`text` with identifiers and names replaced by placeholders."""
        text = _nfc(text)
        identified = self.identified.get(text)
        if identified is None:
            identified = mask_identifiers(text)
        text = mask_people(identified, list(self.people))
        for pattern in self.first_names:
            text = mask_where_signed(text, pattern, NAME_MASK)
            near = re.compile(pattern.pattern + _BEFORE_PLACEHOLDER)
            text = near.sub(NAME_MASK, text)
        return _GIVEN_BEFORE_MASK.sub(_given_name, text)

    def mask_file_name(self, name: str) -> str:
        """A file name masked like text; underscores count as spaces between words."""
        return self.mask(name.replace("_", " "))


@dataclass(frozen=True)
class PrivateTexts:
    """Everything a private person's published response shows, masked together. Plain
    data, so the publication export can mask many responses in worker processes."""

    sender_name: str | None
    sender_address: str | None
    message: str  # header lines and body, as `services.publication.message_text` gives
    subject: str
    file_names: tuple[str, ...] = ()  # one per attachment
    attachment_texts: tuple[str | None, ...] = ()  # one per attachment (None: no text)

    def masker(self) -> ResponseMasker:
        """The masking learnt from every text the response shows."""
        learnt = [self.message, *(text for text in self.attachment_texts if text)]
        learnt += [name.replace("_", " ") for name in self.file_names]
        return ResponseMasker.for_response(self.sender_name, self.sender_address, learnt)


@dataclass(frozen=True)
class MaskedTexts:
    """`PrivateTexts` masked, in the same order."""

    message: str
    subject: str
    file_names: tuple[str, ...]
    attachment_texts: tuple[str | None, ...]


def mask_private_texts(texts: PrivateTexts) -> MaskedTexts:
    masker = texts.masker()
    return MaskedTexts(
        message=masker.mask(texts.message),
        subject=masker.mask(texts.subject),
        file_names=tuple(masker.mask_file_name(name) for name in texts.file_names),
        attachment_texts=tuple(
            masker.mask(text) if text else text for text in texts.attachment_texts
        ),
    )


__all__ = ["MaskedTexts", "PrivateTexts", "ResponseMasker", "mask_private_texts"]
