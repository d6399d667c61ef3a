"""Form letters as people edit them, for `benchmarks/campaigns.py --hard` and the tests.

Five campaign templates of different lengths (two to four paragraphs), each with phrases
written as `{base|reworded|reworded}`: a copy keeps the first wording unless an edit
rewords it. Every copy belongs to one edit family:

- `phrases`: 2-4 of the template's phrases reworded;
- `paragraph`: a personal paragraph added before or after the letter;
- `sentences`: one or two sentences removed and one added;
- `reordered`: the paragraphs in another order;
- `contact`: another greeting, a signature with title, street address, phone and e-mail,
  sometimes the address and phone as a letterhead above the greeting;
- `combined`: all of the above in one copy.

Controls are not campaigns: `quoting` letters are distinct letters on the hearing's topic
that quote the same passage of the proposal (`PROPOSAL`); `independent` letters are
unique texts from the easy generator.
"""

from __future__ import annotations

import random
import re

FAMILIES = ("phrases", "paragraph", "sentences", "reordered", "contact", "combined")
CONTROLS = ("quoting", "independent")

PROPOSAL = (
    "Helsedirektoratet foreslår forskriftsfesting av dette læringsmålet i "
    "spesialistutdanningens del 3 i 13 spesialiteter. Hensikten med innføring av dette "
    "læringsmålet er å stimulere til at en nyutdannet spesialist skal kunne ha oversikt over "
    "aktuelle kliniske studier i sin spesialitet, kunne informere pasienter om disse og kunne "
    "diskutere reservasjonsrett med pasientene. Læringsmålet skal kunne oppnås gjennom "
    "deltakelse i kliniske studier, kurs eller andre læringsaktiviteter ved "
    "utdanningsvirksomheten. "
    "Det er direktoratets ønske at læringsmålene kan bidra til at leger i spesialisering får mer "
    "anledning til å tenke på og lære om klinisk forskning i sin hverdag."
)

_TEMPLATES = (
    # A: the LIS letter of issue 14 (three paragraphs)
    "Som {lege i spesialisering|LIS-lege|ung lege under utdanning} ønsker jeg å gi innspill "
    "til høringen om læringsmål i kliniske studier. Jeg {støtter intensjonen om|er positiv til "
    "målet om|stiller meg bak ønsket om} mer klinisk forskning i helsetjenesten.\n\n"
    "Likevel mener jeg at læringsmålet vil bli {vanskelig å oppnå|svært krevende å nå|"
    "tungt å oppfylle} for mange LIS uten at det settes av tid og ressurser. Ved mange "
    "avdelinger finnes det {få eller ingen pågående studier|knapt noen aktive studier|"
    "sjelden studier man kan delta i}, og det er uklart hvordan læringsmålet skal "
    "dokumenteres og vurderes av veilederne.\n\n"
    "Jeg ber derfor Helsedirektoratet om å {sikre at|sørge for at|garantere at} læringsmålet "
    "kan oppnås ved alle helseforetak før det forskriftsfestes, og at det ikke blir en ny "
    "{flaskehals i utdanningen|propp i utdanningsløpet|hindring for å bli ferdig spesialist}.",
    # B: a short letter from senior doctors (two paragraphs)
    "Vi er en gruppe overleger som har lest høringsforslaget {med interesse|nøye|med stor "
    "oppmerksomhet}. Vi mener at kliniske studier er {en viktig del av|helt sentralt i|en "
    "bærebjelke i} moderne medisin.\n\n"
    "Samtidig er vi {bekymret for|urolige for|redde for} at veiledere allerede har for liten "
    "tid til supervisjon. Et nytt læringsmål må følges av tid i arbeidsplanen, ellers blir det "
    "bare {en ny avkrysning i portalen|enda et skjema å fylle ut|papirarbeid uten innhold}. "
    "Vi {oppfordrer direktoratet til å vurdere|ber direktoratet utrede|foreslår} en felles "
    "nasjonal kursmodul.",
    # C: a long letter from patient representatives (four paragraphs)
    "Jeg skriver som {pasientrepresentant|brukerrepresentant|representant for pasientene} og "
    "tidligere studiedeltaker. Det er {bra|positivt|svært gledelig} at leger skal lære å "
    "informere om kliniske studier.\n\n"
    "Mange pasienter får {aldri vite|ikke høre|aldri informasjon om} at de kunne ha deltatt i "
    "en studie. Det er et tap både for pasienten og for forskningen. Når legen ikke kjenner "
    "til studiene, blir pasientene {stående utenfor|holdt utenfor|oversett}.\n\n"
    "Informasjonen må være forståelig, og pasienten må få {tid til å tenke seg om|god tid til "
    "å vurdere|rom til å tenke} før samtykke gis. Læringsmålet bør også omfatte hvordan legen "
    "snakker om reservasjonsretten {uten å skape press|på en måte som ikke presser pasienten|"
    "slik at ingen føler seg tvunget}.\n\n"
    "Jeg {støtter forslaget|stiller meg bak forslaget|anbefaler at forslaget vedtas} og håper "
    "det blir fulgt opp med god opplæring. Pasientorganisasjonene bidrar gjerne i arbeidet "
    "med {kursmateriell|undervisningsopplegg|opplæringsmateriell}.",
    # D: union representatives (three paragraphs, quotes the proposal)
    "Vi viser til høringsbrevet og vil på vegne av de tillitsvalgte ved vår avdeling "
    "{påpeke|understreke|minne om} at arbeidsbelastningen for leger i spesialisering allerede "
    "er {svært høy|altfor høy|på grensen av det forsvarlige}.\n\n"
    "Direktoratet skriver at læringsmålet skal kunne oppnås gjennom deltakelse i kliniske "
    "studier, kurs eller andre læringsaktiviteter ved utdanningsvirksomheten. Nye læringsmål "
    "må ikke innføres uten at det {samtidig gjøres en vurdering av|også vurderes|avklares} "
    "hvilke eksisterende krav som kan tas bort.\n\n"
    "Vi ber om at direktoratet {gjennomfører en konsekvensanalyse|utreder konsekvensene|gjør "
    "en grundig analyse} av tidsbruken før læringsmålet forskriftsfestes i {alle de foreslåtte "
    "spesialitetene|de tretten spesialitetene|noen av spesialitetene}.",
    # E: an oncologist's letter (two paragraphs)
    "Som {spesialist i onkologi|onkolog|kreftlege} ser jeg daglig hvor viktig det er at "
    "pasienter får tilbud om å delta i studier. Læringsmålet er {et godt steg|et skritt i "
    "riktig retning|et viktig tiltak}.\n\n"
    "Nivået under supervisjon er likevel {for lavt|ikke høyt nok|for beskjedent} for vår "
    "spesialitet, der studier er {en del av standard behandling|vanlig praksis|hverdagskost}. "
    "Jeg foreslår at nivået heves til selvstendig kunne for onkologi, og at det lages en "
    "veileder med {eksempler på læringsaktiviteter|konkrete eksempler|gode eksempler} som kan "
    "brukes i avdelingene.",
)

_SLOT = re.compile(r"\{([^}]*)\}")
FIRST = ("Kari", "Ola", "Ingrid", "Lars", "Siri", "Jonas", "Marte", "Emil", "Nora", "Anders")
LAST = ("Hansen", "Johansen", "Olsen", "Larsen", "Berg", "Haugen", "Dahl", "Lie", "Moe", "Bakke")
_STREETS = ("Storgata", "Kirkeveien", "Bakkegata", "Skolevegen", "Fjordgata", "Granstien")
_PLACES = ("0155 Oslo", "5003 Bergen", "7030 Trondheim", "9008 Tromsø", "4006 Stavanger")
_TITLES = ("Lege i spesialisering", "LIS1, Medisinsk avdeling", "Overlege", "Spesialist", "")
_GREETINGS = ("Hei,", "Til Helsedirektoratet", "Hei Helsedirektoratet!", "", "God dag,")
_CLOSINGS = ("Med vennlig hilsen", "Vennlig hilsen", "Mvh", "Hilsen", "Beste hilsen")
_PERSONAL = (
    "Jeg jobber selv ved et mindre sykehus på Vestlandet, der vi har lange vaktperioder.",
    "Jeg har selv vært med i en klinisk studie som medisinstudent og lærte mye av det.",
    "På min avdeling er vi bare tre leger i spesialisering, så hver time teller.",
    "Min mor deltok i en kreftstudie, og jeg vet hvor mye det betydde for henne.",
    "Jeg er snart ferdig med del 2 og bekymrer meg for hva som skjer med progresjonen.",
    "Vår avdeling har hatt ubesatte stillinger i over et år.",
    "Jeg har to små barn og jobber deltid, og utdanningen tar allerede lang tid.",
    "Jeg har erfaring fra forskning i utlandet og ser at Norge ligger etter.",
)
_ADDED = (
    "Dette gjelder særlig for oss som har lange vaktperioder.",
    "Takk for muligheten til å gi innspill.",
    "Jeg håper innspillet blir tatt med i vurderingen.",
    "Dette er et viktig spørsmål for mange av oss.",
    "Jeg ser fram til å høre hva direktoratet bestemmer.",
)


def _fill(template: str, reword: set[int], rng: random.Random) -> str:
    slot = -1

    def choose(match: re.Match[str]) -> str:
        nonlocal slot
        slot += 1
        options = match.group(1).split("|")
        return rng.choice(options[1:]) if slot in reword else options[0]

    return _SLOT.sub(choose, template)


def _sentences(paragraph: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", paragraph) if s]


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def _contact_letter(rng: random.Random, body: str, name: str) -> str:
    """`body` with a personal greeting and a signature with address, phone and e-mail."""
    street = f"{rng.choice(_STREETS)} {rng.randint(1, 120)}, {rng.choice(_PLACES)}"
    phone = f"{rng.choice('49')}{rng.randint(1000000, 9999999)}"
    phone = f"{phone[:3]} {phone[3:5]} {phone[5:]}"
    email = f"{name.lower().replace(' ', '.')}@{rng.choice(('gmail.com', 'online.no'))}"
    greeting = rng.choice(("Kjære Helsedirektoratet,", f"Hei, jeg heter {name}.", "Hei,", ""))
    title = rng.choice(_TITLES)
    signature = "\n".join(line for line in (name, title, street, f"Tlf. {phone}", email) if line)
    head = f"{greeting}\n\n" if greeting else ""
    if rng.random() < 0.3:
        head = f"{name}\n{street}\nMobil {phone}\n\n{head}"
    return f"{head}{body}\n\n{rng.choice(_CLOSINGS)}\n{signature}\n"


def plain_letter(rng: random.Random, body: str, name: str) -> str:
    greeting = rng.choice(_GREETINGS)
    head = f"{greeting}\n\n" if greeting else ""
    return f"{head}{body}\n\n{rng.choice(_CLOSINGS)}\n{name}\n"


def campaign_copy(rng: random.Random, template: str, family: str, own: str = "") -> str:
    """One copy of `template` edited as `family` says; `own`: the sender's own words for
    the personal paragraph (with one of a few stock sentences)."""
    every = family == "combined"
    slots = len(_SLOT.findall(template))
    reword: set[int] = set()
    if family == "phrases" or every:
        reword = set(rng.sample(range(slots), k=min(rng.randint(2, 4), slots)))
    paragraphs = [_sentences(p) for p in _fill(template, reword, rng).split("\n\n")]
    if family == "sentences" or every:
        for _ in range(rng.randint(1, 2)):
            longest = max(paragraphs, key=len)
            if len(longest) > 1:
                longest.pop(rng.randrange(len(longest)))
        rng.choice(paragraphs).insert(0, rng.choice(_ADDED))
    if family == "reordered" or every:
        rng.shuffle(paragraphs)
    texts = [" ".join(p) for p in paragraphs]
    if family == "paragraph" or every:
        personal = f"{rng.choice(_PERSONAL)} {own}".strip()
        texts.insert(rng.choice((0, len(texts))), personal)
    body = "\n\n".join(texts)
    name = _person(rng)
    if family == "contact" or every:
        return _contact_letter(rng, body, name)
    return plain_letter(rng, body, name)


def quoting_letter(rng: random.Random, own: str) -> str:
    """A distinct letter on the hearing's topic (its own text `own`) that quotes the same
    passage of the proposal, before or after its own text."""
    passage = " ".join(_sentences(PROPOSAL)[1:3])
    intro = rng.choice(("I høringsnotatet står det:", "Direktoratet skriver:", "Vi viser til"))
    opener = rng.choice(
        (
            "Jeg viser til høringen om læringsmål i kliniske studier.",
            "Vi har lest høringen om kliniske studier i spesialistutdanningen.",
            "",
        )
    )
    quote = f'{intro} "{passage}"'
    parts = [opener, quote, own] if rng.random() < 0.5 else [opener, own, quote]
    return plain_letter(rng, "\n\n".join(p for p in parts if p), _person(rng))


def template_bodies() -> tuple[str, ...]:
    return _TEMPLATES
