"""A generated corpus of hearing responses with planted personal data, and how well the
publication export masks it (tests/services/test_masking_corpus.py, benchmarks/masking.py).

Private persons' responses carry personal data of every kind the export must mask, in
varied phrasings and places: the body, a quoted reply, a forwarded message, the
signature, .docx and .pdf attachments and their file names. Organisations' responses
come from stakeholders' domains (data/stakeholders.yaml) and carry their staff's names
and work contact details, which are published as received. Every response also holds
case numbers, dates and goal IDs, which must never be masked.

The ground truth is recorded as the corpus is generated; `evaluate` reads the export
folder and counts what is left.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from domain.calendar import OSLO
from tests.intake_helpers import DOCX_TYPE, docx_bytes
from tests.sample_files import pdf_bytes

_FIRST_TEXT = (
    "Kari Ola Åse Tom Ingrid Jonas Sigrid Håkon Marte Øystein Bjørn Solveig Nils "
    "Ragnhild Anne-Lise Jan-Erik Ståle Tuva Eirik Siv Kjersti Torbjørn Hege Ådne "
    "Frøydis Lars Mari Gunnhild Sindre Astrid Per-Arne Liv Even Synnøve Ørjan Kristin "
    "Halvard Maja Vegard "
)
FIRST = tuple(_FIRST_TEXT.split())
_LAST_TEXT = (
    "Hagen Bjørnstad Ødegård Nordmann-Øverås Hansen Solheim Aasen Sæther Kåsa Strøm "
    "Haugland Berge-Løvås Johannessen Fjærli Røed Tveit Lønning Dahl-Ødegaard "
    "Myklebust Grønvold Skjæveland Aune Bråten Vik-Hole Sandnes Østby Lunde Kvalheim "
    "Mæland Rønning Engebretsen Halvorsen-Brå Ness Tangen Øien Husøy Kleppe Ringdal "
    "Ås Stenersen "
)
LAST = tuple(_LAST_TEXT.split())
FREE_MAIL = ("gmail.com", "hotmail.com", "online.no", "yahoo.no", "outlook.com", "icloud.com")
STREETS = (
    "Storgata {n}", "Kirkeveien {n}", "Bjørnstjerne Bjørnsons gate {n}", "Løvåsveien {n}B",
    "Fjellvegen {n}", "Øvre Slottsgate {n}", "Sjøbakken {n}", "Granlia {n} A", "Strandkaien {n}",
    "Tors gate {n}", "Haugeveien {n}", "Prinsens gate {n}",
)  # fmt: skip
PLACES = (
    ("0155", "Oslo"), ("5003", "Bergen"), ("7030", "Trondheim"), ("9008", "Tromsø"),
    ("4006", "Stavanger"), ("2317", "Hamar"), ("6412", "Molde"), ("8006", "Bodø"),
    ("3045", "Drammen"), ("1767", "Halden"), ("6856", "Sogndal"), ("2609", "Lillehammer"),
)  # fmt: skip
MONTHS = "januar februar mars april mai juni juli august september oktober november desember"
CASES = ("24/750", "23/1412", "24/0031")
GOALS = ("BLS-154", "KIR-012", "IND-077", "ANE-203", "BLS-009", "PSY-120")
DATES = ("12.05.2024", "31. mai 2024", "2024-06-01", "03.04.2024")
PHONE_FORMS = (
    "{a}{b} {c}{d} {e}{f}{g}",  # 912 34 567 is grouped below
    "+47 {all}",
    "{p1} {p2} {p3} {p4}",
    "+47{all}",
    "0047{all}",
    "+47 {a}{b} {c}{d} {e}{f}{g}",
    "{all}",
)
BODY_SENTENCES = (
    "Jeg mener læringsmålet {goal} bør omformuleres, slik det ble drøftet i sak {case}.",
    "Forslaget i høring {case} styrker utdanningen, særlig for {goal}.",
    "Etter min erfaring siden {date} er {goal} vanskelig å oppnå i små avdelinger.",
    "Eg meiner {goal} er for vidt formulert, og viser til høyringa {case}.",
    "Vi fikk informasjon om endringen {date}, og {goal} bør utsettes.",
    "Læringsmålet {goal} henger sammen med kravene i sak {case}.",
)


@dataclass
class Planted:
    """What one response was given, and how its export must look."""

    tracking_source: str
    private: bool
    identifiers: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)  # text without personal data
    raw: bytes = b""
    attachments: dict[str, bytes] = field(default_factory=dict)


def national_id(rng: random.Random, d_number: bool = False) -> str:
    """A valid fødselsnummer (or D-nummer: day + 40), computed here independently."""
    while True:
        day, month, year = rng.randint(1, 28), rng.randint(1, 12), rng.randint(50, 99)
        digits = [*f"{day + (40 if d_number else 0):02d}{month:02d}{year:02d}"]
        digits += [*f"{rng.randint(0, 499):03d}"]
        numbers = [int(c) for c in digits]
        k1 = 11 - sum(w * n for w, n in zip((3, 7, 6, 1, 8, 9, 4, 5, 2), numbers, strict=True)) % 11
        k1 = 0 if k1 == 11 else k1
        if k1 == 10:
            continue
        numbers.append(k1)
        k2 = (
            11
            - sum(w * n for w, n in zip((5, 4, 3, 2, 7, 6, 5, 4, 3, 2), numbers, strict=True)) % 11
        )
        k2 = 0 if k2 == 11 else k2
        if k2 == 10:
            continue
        return "".join(str(n) for n in numbers) + str(k2)


def phone(rng: random.Random) -> str:
    """A valid Norwegian number (mobile 4x/9x or landline) in one of the usual forms."""
    start = rng.choice(("9", "9", "40", "41", "45", "46", "47", "48", "22", "23", "32", "55", "73"))
    digits = start + "".join(str(rng.randint(0, 9)) for _ in range(8 - len(start)))
    form = rng.choice(PHONE_FORMS)
    a, b, c, d, e, f, g, h = digits
    if form.startswith("{a}{b} "):
        return f"{a}{b}{c} {d}{e} {f}{g}{h}"
    if form.startswith("+47 {a}"):
        return f"+47 {a}{b}{c} {d}{e} {f}{g}{h}"
    pairs = [digits[i : i + 2] for i in range(0, 8, 2)]
    return form.format(all=digits, p1=pairs[0], p2=pairs[1], p3=pairs[2], p4=pairs[3])


def person(rng: random.Random, taken: set[str]) -> tuple[str, str]:
    while True:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        if first not in taken and last not in taken:
            taken.update((first, last))
            return first, last


def _ascii(text: str) -> str:
    table = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "Æ": "Ae", "Ø": "O", "Å": "A"})
    return text.translate(table).lower()


def private_address(rng: random.Random, first: str, last: str) -> str:
    first = first.split()[0]
    local = rng.choice(
        (f"{first}.{last}", f"{first}{last[0]}", f"{first[0]}{last}", f"{first}.{last[0]}")
    )
    local = _ascii(local).replace("-", "")
    return f"{local}{rng.choice(('', '', '77', '.1'))}@{rng.choice(FREE_MAIL)}"


def street_address(rng: random.Random) -> str:
    street = rng.choice(STREETS).format(n=rng.randint(1, 140))
    postcode, place = rng.choice(PLACES)
    place = place.upper() if rng.random() < 0.2 else place
    separator = rng.choice((", ", ", ", "\n", " "))
    return f"{street}{separator}{postcode} {place}"


def birth_date(rng: random.Random) -> tuple[str, str]:
    day, month, year = rng.randint(1, 28), rng.randint(1, 12), rng.randint(1950, 1996)
    written = rng.choice(
        (
            f"{day:02d}.{month:02d}.{year}",
            f"{day}. {MONTHS.split()[month - 1]} {year}",
            f"{year}-{month:02d}-{day:02d}",
        )
    )
    cue = rng.choice(("født", "født", "fødd", "f.", "Fødselsdato:", "født den"))
    return f"{cue} {written}", written


# --- private persons ---------------------------------------------------------------------------

GREETINGS = ("Hei,", "Hei!", "Hallo.", "God dag.", "Kjære Helsedirektoratet,", "Hei på dykk,", "")
INTRODUCTIONS = (
    "Jeg heter {name} og er LIS i indremedisin.",
    "Eg heiter {name}, LIS 2 ved Førde sentralsjukehus.",
    "Mitt navn er {name}, og jeg er overlege.",
    "",
    "",
)
OWN_PHONE = (
    "Jeg kan nås på {x}.",
    "Ring meg gjerne på {x} om noe er uklart.",
    "Mobil: {x}",
    "Telefonnummeret mitt er {x}.",
    "Eg kan nåast på {x} på dagtid.",
)
NATIONAL_ID = (
    "Mitt fødselsnummer er {x}, dersom dere trenger det.",
    "Fnr: {x}",
    "Personnummer {x} (for registrering).",
    "D-nummer: {x}",
)
HOME = ("Jeg bor i {x}.", "Adresse:\n{x}", "Post kan sendes til {x}.", "Eg bur i {x}.")
BORN = ("Jeg er {x} og har jobbet som lege i mange år.", "Selv er jeg {x}.", "(Eg er {x}.)")
THIRD_PARTY = (
    "Kontakt min veileder {name} på {phone} for bekreftelse.",
    "{name} ({mail}) kan utdype dette.",
    "Spør gjerne {name}, tlf. {phone}.",
    "Min kollega {name}, {mail}, er enig.",
    "Du kan ringje {name} på {phone}.",
    "Seksjonsleder {name} (mobil {phone}) har sett på saken.",
    "Jeg har snakket med {name} <{mail}>, som støtter dette.",
    "Kontaktinformasjon: {mail} ({name}).",
    "{name}, mobil {phone}, var også med på møtet.",
    "Ta kontakt med {name} ({phone}) eller meg.",
    "E-post til {name}: {mail}",
)
CLOSINGS = (
    "Med vennlig hilsen",
    "Mvh",
    "Hilsen",
    "Venleg helsing",
    "Beste hilsen",
    "Vennlig hilsen",
)
TITLES = ("LIS, Sykehuset Innlandet", "Overlege", "Lege i spesialisering", "", "")


@dataclass
class _Draft:
    rng: random.Random
    planted: Planted
    taken: set[str]

    def kept_sentence(self) -> str:
        rng = self.rng
        case, goal, date = rng.choice(CASES), rng.choice(GOALS), rng.choice(DATES)
        sentence = rng.choice(BODY_SENTENCES)
        for token, value in (("{case}", case), ("{goal}", goal), ("{date}", date)):
            if token in sentence:
                self.planted.kept.append(value)
        text = sentence.format(case=case, goal=goal, date=date)
        self.planted.sentences.append(text)
        return text

    def identifier(self, value: str) -> str:
        self.planted.identifiers.append(value)
        return value

    def name(self) -> tuple[str, str, str]:
        first, last = person(self.rng, self.taken)
        if self.rng.random() < 0.15:  # a middle name: "Kari Ingrid Hansen"
            middle, _ = person(self.rng, self.taken)
            first = f"{first} {middle}"
        self.planted.names.append(f"{first} {last}")
        return first, last, f"{first} {last}"


def _planted_sentences(draft: _Draft) -> list[str]:
    rng = draft.rng
    makers = [
        lambda: rng.choice(OWN_PHONE).format(x=draft.identifier(phone(rng))),
        lambda: rng.choice(NATIONAL_ID).format(
            x=draft.identifier(national_id(rng, d_number=rng.random() < 0.3))
        ),
        lambda: rng.choice(HOME).format(x=draft.identifier(street_address(rng))),
        lambda: _born(draft),
        lambda: _third_party(draft),
        lambda: _third_party(draft),
    ]
    rng.shuffle(makers)
    return [make() for make in makers[: rng.randint(2, 5)]]


def _born(draft: _Draft) -> str:
    phrase, written = birth_date(draft.rng)
    draft.planted.identifiers.append(written)
    return draft.rng.choice(BORN).format(x=phrase)


def _third_party(draft: _Draft) -> str:
    first, last, full = draft.name()
    number = draft.identifier(phone(draft.rng))
    mail = draft.identifier(private_address(draft.rng, first, last))
    return draft.rng.choice(THIRD_PARTY).format(name=full, phone=number, mail=mail)


def _quote(draft: _Draft) -> str:
    rng = draft.rng
    first, last, full = draft.name()
    mail = draft.identifier(private_address(rng, first, last))
    attribution = rng.choice(
        (
            f"Den {rng.choice(DATES)} kl. 10:12 skrev {full} <{mail}>:",
            f"{full} <{mail}> skrev:",
            f"On Tue, 14 May 2024 at 09:30, {full} <{mail}> wrote:",
        )
    )
    signed = rng.choice((f"{last}, {first}", full, f"{rng.choice(CLOSINGS)}\n{full}"))
    quoted = [draft.kept_sentence(), "", *signed.splitlines()]
    return attribution + "\n" + "\n".join(f"> {line}".rstrip() for line in quoted)


def _forward(draft: _Draft, own: str) -> str:
    rng = draft.rng
    first, last, full = draft.name()
    mail = draft.identifier(private_address(rng, first, last))
    sender = rng.choice(
        (f"{full} <{mail}>", f"{full} [mailto:{mail}]", f'"{last}, {first}" <{mail}>', full)
    )
    if sender == full:
        draft.planted.identifiers.remove(mail)
    return "\n".join(
        (
            rng.choice(("---------- Videresendt melding ----------", "-----Original Message-----")),
            f"Fra: {sender}",
            "Dato: 14. mai 2024 kl. 09:30",
            "Emne: Høring 24/750",
            f"Til: {own}",
            "",
            draft.kept_sentence(),
            "",
            rng.choice(CLOSINGS),
            rng.choice((first, full)),
        )
    )


def _signature(draft: _Draft, first: str, full: str) -> str:
    rng = draft.rng
    closing = rng.choice(CLOSINGS)
    shown = rng.choice((full, full, first))
    gap = "\n\n" if rng.random() < 0.2 else "\n"
    lines = [f"{closing} {shown}" if rng.random() < 0.2 else f"{closing}{gap}{shown}"]
    lines.append(rng.choice(TITLES))
    if rng.random() < 0.3:
        lines.append("Tlf. " + draft.identifier(phone(rng)))
    return "\n".join(line for line in lines if line)


def _attachments(draft: _Draft, first: str, last: str, full: str) -> list[tuple[str, bytes, str]]:
    rng = draft.rng
    found: list[tuple[str, bytes, str]] = []
    for kind in ("docx", "pdf"):
        if rng.random() > (0.45 if kind == "docx" else 0.3):
            continue
        lines = ["Høringssvar til sak 24/750", draft.kept_sentence()]
        draft.planted.kept.append("24/750")
        extra = rng.choice(
            (
                f"Fødselsnummer: {draft.identifier(national_id(rng))}",
                f"Innsendt av {full}, {birth_phrase(draft)}",
                f"Adresse: {draft.identifier(street_address(rng)).replace(chr(10), ', ')}",
                f"Telefon: {draft.identifier(phone(rng))}",
            )
        )
        lines += [extra, rng.choice(CLOSINGS), full]
        name = rng.choice(
            (f"Høringssvar {full}.{kind}", f"innspill_{first}_{last}.{kind}", f"Høringssvar.{kind}")
        )
        if kind == "docx":
            found.append((name, docx_bytes(*lines), DOCX_TYPE))
        else:
            found.append((name, pdf_bytes(*lines, errors="replace"), "application/pdf"))
    return found


def birth_phrase(draft: _Draft) -> str:
    phrase, written = birth_date(draft.rng)
    draft.planted.identifiers.append(written)
    return phrase


def private_response(rng: random.Random, number: int) -> Planted:
    draft = _Draft(rng, Planted(f"private-{number}", True), set())
    first, last, full = draft.name()
    address = draft.identifier(private_address(rng, first, last))
    mode = rng.choice(("display", "display", "none", "inverted"))
    sender = {"display": f"{full} <{address}>", "none": address}.get(
        mode, f'"{last}, {first}" <{address}>'
    )
    parts = [rng.choice(GREETINGS), rng.choice(INTRODUCTIONS).format(name=full)]
    body = [draft.kept_sentence() for _ in range(rng.randint(1, 3))] + _planted_sentences(draft)
    rng.shuffle(body)
    parts.append(" ".join(s for s in body if "\n" not in s))
    parts += [s for s in body if "\n" in s]
    parts.append(_signature(draft, first, full))
    if rng.random() < 0.35:
        parts.append(_quote(draft))
    if rng.random() < 0.3:
        parts.append(_forward(draft, f"{full} <{address}>"))
    subject = rng.choice(
        (
            "Høringssvar sak 24/750",
            f"Innspill til høring 24/750 fra {full}",
            "SV: Høring 24/750",
            f"Høyringsfråsegn 24/750 – {full}",
            f"24/750: kommentar til {rng.choice(GOALS)}",
        )
    )
    draft.planted.kept += ["24/750", *(g for g in GOALS if g in subject)]
    attachments = _attachments(draft, first, last, full)
    draft.planted.raw = _email(
        sender, subject, "\n\n".join(p for p in parts if p), number, attachments
    )
    return draft.planted


# --- organisations -----------------------------------------------------------------------------


def organisation_response(
    rng: random.Random, number: int, stakeholders: list[tuple[str, str]]
) -> Planted:
    """A response from a stakeholder's staff, with their work contact details."""
    organisation, domain = rng.choice(stakeholders)
    draft = _Draft(rng, Planted(f"organisation-{number}", False), set())
    first, last = person(rng, draft.taken)
    contact_first, contact_last = person(rng, draft.taken)
    address = _ascii(f"{first}.{last}").replace("-", "") + f"@{domain}"
    contact = _ascii(f"{contact_first}.{contact_last}").replace("-", "") + f"@{domain}"
    body = "\n\n".join(
        (
            "Hei,",
            f"{organisation} viser til høringsbrevet i sak 24/750. "
            + " ".join(draft.kept_sentence() for _ in range(rng.randint(1, 3))),
            f"Kontaktperson: {contact_first} {contact_last}, tlf. {phone(rng)}, {contact}.",
            f"{rng.choice(CLOSINGS)}\n{first} {last}\nfagdirektør\n{organisation}\n"
            f"Tlf. {phone(rng)}\n{street_address(rng)}",
        )
    )
    attachments = []
    if rng.random() < 0.4:
        text = ("Høringssvar", draft.kept_sentence(), f"{first} {last}, tlf. {phone(rng)}")
        attachments.append((f"Høringssvar {organisation}.docx", docx_bytes(*text), DOCX_TYPE))
    draft.planted.attachments = {name: data for name, data, _ in attachments}
    subject = rng.choice(("Høringssvar 24/750", f"Høring 24/750 – svar fra {organisation}"))
    draft.planted.raw = _email(f"{first} {last} <{address}>", subject, body, number, attachments)
    return draft.planted


def _email(
    sender: str, subject: str, body: str, number: int, attachments: list[tuple[str, bytes, str]]
) -> bytes:
    from datetime import datetime

    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = "Postmottak Helsedirektoratet <postmottak@helsedir.no>"
    mail["Subject"] = subject
    mail["Date"] = format_datetime(datetime(2024, 5, 2, 8, 0, tzinfo=OSLO))
    mail["Message-ID"] = f"<corpus-{number}@corpus.example>"
    mail.set_content(body)
    for filename, payload, content_type in attachments:
        maintype, subtype = content_type.split("/", 1)
        mail.add_attachment(payload, maintype=maintype, subtype=subtype, filename=filename)
    return mail.as_bytes(policy=SMTP)


def generate(
    private: int, organisations: int, stakeholders: list[tuple[str, str]], seed: int = 750
):
    rng = random.Random(seed)
    corpus = [private_response(rng, n) for n in range(private)]
    corpus += [organisation_response(rng, private + n, stakeholders) for n in range(organisations)]
    return corpus
