"""Finding the names of private persons in a response's text, without a model.

Names are recognised by where they stand, not by a list of names:
- a signature: the lines after a closing formula ("Med vennlig hilsen", "Mvh", "Hilsen",
  nynorsk "Venleg helsing", "Helsing") or the `-- ` separator that hold nothing but a
  name ("Tom Hagen", "Tom", "Kari A. Nordmann-Øverås"), also on the closing line
  ("Hilsen Tom Hagen");
- an introduction: "jeg heter ...", "mitt navn er ...", "eg heiter ...", "Navn: ...";
- a header line of a forwarded or quoted message ("Fra: Åse Bjørnstad <...>",
  "From: \"Bjørnstad, Åse\" <...>") and an attribution ("... skrev Åse Bjørnstad <...>:");
- an inverted name alone on a line ("> Bjørnstad, Åse");
- a name right before or after contact details ("Per Olsen, tlf. 912 34 567",
  "Per Olsen <per@...>", "kontakt Per Olsen på per.olsen@...").
Candidates holding a word of an organisation ("sykehus", "HF", "forening" ...) or a
common capitalised word ("Hilsen", "Oslo", "LIS" ...) are not names.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from domain.personal_data import EMAIL, is_functional_address

NAME_WORD = r"[A-ZÆØÅÉÜÖÄ][a-zæøåéüöäèáó]+(?:-[A-ZÆØÅÉ][a-zæøåéüöäèáó]+)*"
_INITIAL = r"[A-ZÆØÅ]\.(?:[ \t]?[A-ZÆØÅ]\.)*"
_PARTICLE = r"(?:von|van|de|af|der|den)"
NAME = rf"{NAME_WORD}(?:[ \t]+(?:{_INITIAL}|{_PARTICLE}|{NAME_WORD})){{0,3}}"
_INVERTED = rf"({NAME_WORD}(?:[ \t]+{NAME_WORD})?)[ \t]*,[ \t]*({NAME_WORD}(?:[ \t]+{NAME_WORD})?)"

CLOSING = re.compile(
    r"(?im)^[ \t>]*(?:med\s+vennlig\s+hilsen|vennlig\s+hilsen|vennlige\s+hilsener|"
    r"beste\s+hilsen|beste\s+helsing|mvh\.?|hilsen|hilsener|med\s+venleg\s+helsing|"
    r"venleg\s+helsing|venlig\s+hilsen|helsing|med\s+hilsen|hilsning|--)[ \t,.!]*"
)
_TITLE = r"(?:(?:dr|prof|lege|overlege|lis\d?|cand\.med)\.?[ \t]+)?"
# A signature line: a name, maybe after a title ("Dr. Kari Nordmann") and before a role
# ("Kari Nordmann, LIS 2" / "Kari Nordmann (overlege)").
_NAME_LINE = re.compile(
    rf"^[ \t>]*(?i:{_TITLE})({NAME})[ \t.]*(?:$|[,(–][^\n]*$|[ \t]-[ \t][^\n]*$)"
)
_CAPITALS_LINE = re.compile(
    r"^[ \t>]*([A-ZÆØÅ]{2,}(?:-[A-ZÆØÅ]{2,})?(?:[ \t]+[A-ZÆØÅ]{2,}(?:-[A-ZÆØÅ]{2,})?){1,3})[ \t.]*$"
)
_INVERTED_LINE = re.compile(rf"(?m)^[ \t>]*{_INVERTED}[ \t]*$")
_INTRODUCTION = re.compile(
    rf"(?i:jeg\s+heter|mitt\s+navn\s+er|eg\s+heiter|namnet\s+mitt\s+er|navn\s*:|namn\s*:|"
    rf"undertegnede,?|underteikna,?)[ \t]+({NAME})"
)
_HEADER_LINE = re.compile(
    r"(?im)^[ \t>]*(?:fra|from|avsender|til|to|kopi|cc|sendt\s+fra)[ \t]*:[ \t]*(.+)$"
)
_ATTRIBUTION = re.compile(
    rf"(?:skrev|wrote)[ \t]+({NAME})|({NAME})[ \t]*(?:<[^>\n]*>|\([^)\n]*@[^)\n]*\))?[ \t]*"
    r"(?:skrev|wrote)\b"
)
_CONTACT = (
    r"(?:\[(?:telefonnummer|e-postadresse|adresse) skjermet\]|<[^>\n]*@[^>\n]*>|"
    r"\[mailto:[^\]\n]*\])"
)
_LINK = r"(?:[ \t]*\n?[ \t]*(?:,|\(|<|:|-|–|på|tlf\.?|telefon|mobil|mob\.?|e-post|epost|"
_LINK += r"mail|e-mail|via|"
_LINK += r"adresse|tel\.?|nr\.?|nummer|eller|og|er|har|\bi\b))*[ \t]*\n?[ \t]*"
_BEFORE_CONTACT = re.compile(rf"({NAME}){_LINK}{_CONTACT}")
_AFTER_CONTACT = re.compile(rf"{_CONTACT}[ \t]*[(,][ \t]*({NAME})")

_NOT_NAMES_TEXT = (
    "med vennlig vennlige hilsen hilsener mvh hei hallo kjære god dag ring kontakt telefon "
    "tlf mobil epost e-post send ta min mitt mine vår våre jeg vi du dere han hun det den "
    "de som til fra kopi emne sendt dato adresse navn namn skrev wrote helsing venleg "
    "beste oslo bergen trondheim tromsø stavanger kristiansand bodø lis overlege lege "
    "spesialist avdeling helse helsedirektoratet dr prof professor norge norsk mail "
    "innspill høring høringssvar høringen sak svar takk mvh. the on den ved i på og "
    "eller er ikke hvis når etter før også les se merk nb ps vedlegg videresendt "
    "melding original message forwarded subject date sent to cc from mandag tirsdag "
    "onsdag torsdag fredag lørdag søndag januar februar mars april mai juni juli august "
    "september oktober november desember kl eg ho me dokkar bergen universitetet "
    "læringsmål læringsmålet spesialitet indremedisin kirurgi allmennmedisin "
    "mob tel faks fax sentralbord direkte privat jobb arbeid hjem web www email "
    "også både takk kjære"
)
NOT_NAMES = frozenset(_NOT_NAMES_TEXT.split())  # capitalised words that are no names
# Parts of an organisation's name: stems found inside a word ("Sykehuset", "Legevakten"),
# and short words that must stand alone ("HF", "AS").
ORGANISATION_STEMS = (
    "sykehus", "sjukehus", "universitet", "forening", "direktorat", "avdeling", "klinikk",
    "kommune", "senter", "institutt", "fakultet", "komité", "komite", "foretak", "tjeneste",
    "legevakt", "seksjon", "utvalg", "høgskole", "høyskole", "poliklinikk", "kontor",
)  # fmt: skip
# A role before a name at the start of a sentence ("Seksjonsleder Ola Røed") is no name.
ROLE_ENDINGS = (
    "leder", "lege", "direktør", "sjef", "rådgiver", "sykepleier", "veileder", "kollega",
    "professor", "koordinator", "konsulent", "spesialist", "kandidat", "student",
)  # fmt: skip
ORGANISATION_WORDS = frozenset(
    {"rhf", "hf", "as", "asa", "sa", "helse", "gruppe", "råd", "ous", "unn", "ntnu", "uio"}
)


@dataclass(frozen=True)
class FoundName:
    """A name found in the text; `single` names (one word: a first name alone) are
    masked only where found, whole names everywhere."""

    name: str
    address: str | None = None

    @property
    def single(self) -> bool:
        return len(self.name.split()) == 1


def _clean(candidate: str) -> str | None:
    words = [w for w in re.split(r"[ \t]+", candidate.strip(" \t.,")) if w]
    while words and (words[0].lower() in NOT_NAMES or words[0].lower().endswith(ROLE_ENDINGS)):
        words = words[1:]
    while words and words[-1].lower().rstrip(".") in NOT_NAMES:
        words = words[:-1]
    if not words or len(words) > 4:
        return None
    for word in words:
        lowered = word.lower().rstrip(".")
        if lowered in NOT_NAMES or lowered in ORGANISATION_WORDS:
            return None
        if any(stem in lowered for stem in ORGANISATION_STEMS):
            return None
    if all(re.fullmatch(_INITIAL, w) for w in words):
        return None
    return " ".join(words)


def _signature_names(text: str) -> list[str]:
    found: list[str] = []
    for closing in CLOSING.finditer(text):
        rest = text[closing.end() :]
        same_line, _, after = rest.partition("\n")
        if same_line.strip():
            match = re.match(rf"[ \t]*({NAME})[ \t.,!]*$", same_line)
            if match:
                found.append(match.group(1))
            continue
        lines = [line for line in after.splitlines()[:4] if line.strip(" \t>")]
        for line in lines[:2]:
            match = _NAME_LINE.match(line)
            if match:
                found.append(match.group(1))
            capitals = _CAPITALS_LINE.match(line)
            if capitals:  # "KARI NORDMANN": masked in any case, as a name in capitals
                found.append("-".join(w.capitalize() for w in capitals.group(1).split("-")).title())
    return found


def _header_names(text: str) -> list[FoundName]:
    found: list[FoundName] = []
    for line in _HEADER_LINE.finditer(text):
        value = line.group(1)
        for part in re.split(r"[;]|,(?=[^,]*@)", value):
            addresses = EMAIL.findall(part)
            if addresses and all(is_functional_address(a) for a in addresses):
                continue
            name = re.sub(r"<[^>]*>|\[mailto:[^\]]*\]|\([^)]*@[^)]*\)", " ", part)
            name = EMAIL.sub(" ", name).strip().strip("\"'")
            inverted = re.fullmatch(_INVERTED, name)
            if inverted:
                name = f"{inverted.group(2)} {inverted.group(1)}"
            if re.fullmatch(NAME, name):
                found.append(FoundName(name, addresses[0] if addresses else None))
    return found


def is_name_word(word: str) -> bool:
    """Whether a capitalised word standing next to a masked name can be a given name:
    not a common word, a role or part of an organisation's name."""
    return bool(re.fullmatch(NAME_WORD, word)) and _clean(word) == word


def find_names(text: str) -> list[FoundName]:
    """The private persons' names `text` shows, in the order found (duplicates kept out)."""
    text = unicodedata.normalize("NFC", text)
    candidates: list[FoundName] = _header_names(text)
    raw: list[str] = _signature_names(text)
    raw += [m.group(1) for m in _INTRODUCTION.finditer(text)]
    raw += [f"{m.group(2)} {m.group(1)}" for m in _INVERTED_LINE.finditer(text)]
    raw += [m.group(1) or m.group(2) for m in _ATTRIBUTION.finditer(text)]
    raw += [m.group(1) for m in _BEFORE_CONTACT.finditer(text)]
    raw += [m.group(1) for m in _AFTER_CONTACT.finditer(text)]
    candidates += [FoundName(name) for name in raw]
    seen: set[str] = set()
    names: list[FoundName] = []
    for candidate in candidates:
        name = _clean(candidate.name)
        if name is None or name.casefold() in seen:
            continue
        seen.add(name.casefold())
        names.append(FoundName(name, candidate.address))
    return names


__all__ = ["CLOSING", "NAME", "NAME_WORD", "FoundName", "find_names", "is_name_word"]
