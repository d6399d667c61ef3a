"""Campaign grouping on 50,000 generated responses: precision, recall and run time.

Generates unique responses (sentences drawn from a large generated pool, each text its
own mix; some short, some quoting one sentence of a form letter) and plants a few form
letters of various sizes, every copy with small edits: a changed word, the sender's name
in the text, a sentence added, another greeting and signature. Then runs
`domain.campaigns.group_near_duplicates` and reports

- pairwise precision and recall (pairs of responses put in one group, against the pairs
  that belong to one planted campaign), and membership precision/recall (a response
  flagged as part of some campaign);
- the run time, against a baseline measured in the same run: grouping by the exact
  normalised text (sha256), which costs almost nothing and misses every edited copy.

Run: .venv/bin/python -m benchmarks.campaigns [--responses 50000] [--seed 7]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
from collections import Counter
from collections.abc import Sequence

from benchmarks import campaign_letters as letters
from domain.campaigns import CampaignGroup, comparison_words, group_near_duplicates

CAMPAIGN_SIZES = (4000, 1200, 300, 60, 21)
HARD_SIZES = (4000, 1200, 300, 60, 25)
QUOTING_LETTERS = 2000
TARGET = 0.95

_SUBJECTS = """
læringsmålet forslaget endringen spesialistutdanningen veiledningen supervisjonen kompetansen
forskningen studien avdelingen fagmiljøet utdanningsløpet kapasiteten rekrutteringen
pasientsikkerheten implementeringen evalueringen kursrekken praksisen læringsaktiviteten
læringsarenaen helseforetaket sykehuset poliklinikken vaktordningen spesialiteten
"""
_VERBS = """
styrker svekker krever forutsetter påvirker forsinker forbedrer belaster utfordrer begrenser
utvider tydeliggjør endrer sikrer hindrer fremmer kompliserer forenkler dokumenterer vurderer
"""
_OBJECTS = """
tiden til klinisk arbeid | ressursene i avdelingen | kvaliteten på utdanningen |
tilgangen til kliniske studier | samarbeidet med universitetene | pasientenes rettigheter |
arbeidsmengden for veiledere | rekrutteringen til små fagmiljøer | bruken av simulering |
planleggingen av utdanningsløpet | vurderingen av læringsmål | opplæringen i etikk |
forståelsen av informert samtykke | kjennskapen til reservasjonsretten |
kompetansen i hele regionen | tilbudet ved mindre sykehus | dokumentasjonen i portalen |
oppfølgingen av studiepasienter | informasjonen til pasientene | ventetiden i utdanningen
"""
_QUALIFIERS = """
i stor grad | etter vår vurdering | i noen tilfeller | særlig ved små sykehus | på sikt |
i en overgangsperiode | for mange leger i spesialisering | i praksis | uten ekstra ressurser |
dersom det følges opp | i vår region | ifølge våre erfaringer
"""


def _phrases(text: str) -> tuple[str, ...]:
    return tuple(" ".join(part.split()) for part in text.split("|"))


SUBJECTS = tuple(_SUBJECTS.split())
VERBS = tuple(_VERBS.split())

_FORM_LETTERS = (
    (
        "Som lege i spesialisering ønsker jeg å gi innspill til høringen om læringsmål i "
        "kliniske studier. Jeg støtter intensjonen om mer klinisk forskning, men mener at "
        "læringsmålet vil bli vanskelig å oppnå for mange LIS uten at det settes av tid og "
        "ressurser. Ved mange avdelinger finnes det få eller ingen pågående studier, og det "
        "er uklart hvordan læringsmålet skal dokumenteres og vurderes. Jeg ber derfor "
        "Helsedirektoratet om å sikre at læringsmålet kan oppnås ved alle helseforetak før "
        "det forskriftsfestes, og at det ikke blir en ny flaskehals i utdanningen."
    ),
    (
        "Vi er en gruppe overleger som har lest høringsforslaget med interesse. Vi mener at "
        "kliniske studier er en viktig del av moderne medisin og at alle spesialister bør "
        "kjenne til hvordan pasienter kan inkluderes. Samtidig er vi bekymret for at "
        "veiledere allerede har for liten tid til supervisjon. Et nytt læringsmål må følges "
        "av tid i arbeidsplanen, ellers vil det bare bli en ny avkrysning i portalen uten "
        "reelt innhold. Vi oppfordrer direktoratet til å vurdere en felles nasjonal "
        "kursmodul."
    ),
    (
        "Jeg skriver som pasientrepresentant og tidligere studiedeltaker. Det er bra at leger "
        "skal lære å informere om kliniske studier, fordi mange pasienter aldri får vite at "
        "de kunne ha deltatt. Informasjonen må være forståelig, og pasienten må få tid til å "
        "tenke seg om før samtykke gis. Læringsmålet bør også omfatte hvordan legen snakker "
        "om reservasjonsretten på en måte som ikke skaper press. Jeg støtter forslaget."
    ),
    (
        "Vi viser til høringsbrevet og vil på vegne av de tillitsvalgte ved vår avdeling "
        "påpeke at arbeidsbelastningen for leger i spesialisering allerede er svært høy. "
        "Nye læringsmål må ikke innføres uten at det samtidig gjøres en vurdering av hvilke "
        "eksisterende krav som kan tas bort. Vi ber om at direktoratet gjennomfører en "
        "konsekvensanalyse av tidsbruken før læringsmålet forskriftsfestes i alle de "
        "foreslåtte spesialitetene."
    ),
    (
        "Som spesialist i onkologi ser jeg daglig hvor viktig det er at pasienter får tilbud "
        "om å delta i studier. Læringsmålet er et godt steg, men nivået under supervisjon er "
        "for lavt for vår spesialitet, der studier er en del av standard behandling. Jeg "
        "foreslår at nivået heves til selvstendig kunne for onkologi, og at det lages en "
        "veileder med eksempler på læringsaktiviteter som kan brukes i avdelingene."
    ),
)

OBJECTS = _phrases(_OBJECTS)
QUALIFIERS = _phrases(_QUALIFIERS)
_FIRST = ("Kari", "Ola", "Ingrid", "Lars", "Siri", "Jonas", "Marte", "Emil", "Nora", "Anders")
_LAST = ("Hansen", "Johansen", "Olsen", "Larsen", "Berg", "Haugen", "Dahl", "Lie", "Moe", "Bakke")
_GREETINGS = ("Hei,", "Til Helsedirektoratet", "Hei Helsedirektoratet!", "", "God dag,")
_CLOSINGS = ("Med vennlig hilsen", "Vennlig hilsen", "Mvh", "Hilsen", "Beste hilsen")
_EXTRA = (
    "Jeg jobber ved et mindre sykehus.",
    "Dette gjelder særlig for oss som har lange vaktperioder.",
    "Jeg har selv erfaring fra en klinisk studie.",
    "Takk for muligheten til å gi innspill.",
    "Jeg håper innspillet blir tatt med i vurderingen.",
)
_SWAPS = {
    "viktig": "vesentlig",
    "mange": "flere",
    "derfor": "dermed",
    "allerede": "nå",
    "uklart": "utydelig",
    "bra": "positivt",
    "lavt": "lite",
    "godt": "bra",
    "svært": "veldig",
    "tid": "rom",
}


def _sentence(rng: random.Random) -> str:
    return (
        f"{rng.choice(SUBJECTS).capitalize()} {rng.choice(VERBS)} {rng.choice(OBJECTS)} "
        f"{rng.choice(QUALIFIERS)}, og {rng.choice(SUBJECTS)} {rng.choice(VERBS)} "
        f"{rng.choice(OBJECTS)}."
    )


def _signed(rng: random.Random, body: str) -> str:
    name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
    greeting = rng.choice(_GREETINGS)
    head = f"{greeting}\n\n" if greeting else ""
    return f"{head}{body}\n\n{rng.choice(_CLOSINGS)}\n{name}\nLege i spesialisering\n"


def unique_response(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.05:  # short answers: alike without being a campaign
        return _signed(rng, rng.choice(("Vi har ingen merknader.", "Vi støtter forslaget.")))
    body = " ".join(_sentence(rng) for _ in range(rng.randint(3, 7)))
    if roll < 0.07:  # quotes one sentence of a form letter: near, but not a copy
        quoted = rng.choice(_FORM_LETTERS).split(". ")
        body = f"{rng.choice(quoted).rstrip('.')}. {body}"
    return _signed(rng, body)


def campaign_copy(rng: random.Random, template: str) -> str:
    """One copy of a form letter with one or two small edits."""
    sentences = template.split(". ")
    edits = rng.sample(("swap", "name", "add", "none"), k=rng.choice((1, 2)))
    if "swap" in edits:
        words = " ".join(sentences).split(" ")
        spots = [i for i, w in enumerate(words) if w.strip(",.") in _SWAPS]
        if spots:
            i = rng.choice(spots)
            word = words[i].strip(",.")
            words[i] = words[i].replace(word, _SWAPS[word])
        sentences = " ".join(words).split(". ")
    body = ". ".join(sentences)
    if "name" in edits:
        body = f"Mitt navn er {rng.choice(_FIRST)} {rng.choice(_LAST)}. {body}"
    if "add" in edits:
        body = f"{body} {rng.choice(_EXTRA)}"
    return _signed(rng, body)


def generate(total: int, seed: int) -> tuple[list[str], list[int | None]]:
    """`total` responses in random order and the planted campaign of each (None: unique)."""
    rng = random.Random(seed)
    texts: list[str] = []
    labels: list[int | None] = []
    for campaign, size in enumerate(CAMPAIGN_SIZES):
        for _ in range(size):
            texts.append(campaign_copy(rng, _FORM_LETTERS[campaign]))
            labels.append(campaign)
    while len(texts) < total:
        texts.append(unique_response(rng))
        labels.append(None)
    order = list(range(len(texts)))
    rng.shuffle(order)
    return [texts[i] for i in order], [labels[i] for i in order]


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def score(groups: Sequence[CampaignGroup[int]], labels: Sequence[int | None]) -> dict[str, float]:
    """Pairwise and membership precision/recall of `groups` against the planted labels."""
    predicted_pairs = sum(_pairs(g.size) for g in groups)
    true_pairs = sum(_pairs(n) for n in Counter(lb for lb in labels if lb is not None).values())
    correct_pairs = 0
    flagged = 0
    flagged_right = 0
    for group in groups:
        counts = Counter(labels[i] for i in group.members)
        correct_pairs += sum(_pairs(n) for label, n in counts.items() if label is not None)
        flagged += group.size
        flagged_right += sum(n for label, n in counts.items() if label is not None)
    planted = sum(1 for lb in labels if lb is not None)
    return {
        "pair_precision": correct_pairs / predicted_pairs if predicted_pairs else 1.0,
        "pair_recall": correct_pairs / true_pairs if true_pairs else 1.0,
        "member_precision": flagged_right / flagged if flagged else 1.0,
        "member_recall": flagged_right / planted if planted else 1.0,
    }


def exact_groups(texts: Sequence[str]) -> list[CampaignGroup[int]]:
    """Baseline: responses whose normalised words are identical."""
    by_digest: dict[bytes, list[int]] = {}
    for index, text in enumerate(texts):
        words = comparison_words(text)
        digest = hashlib.sha256(" ".join(words).encode("utf-8")).digest()
        by_digest.setdefault(digest, []).append(index)
    return [CampaignGroup(tuple(m)) for m in by_digest.values() if len(m) >= 2]


def generate_hard(
    total: int, seed: int, sizes: Sequence[int] = HARD_SIZES, quoting: int = QUOTING_LETTERS
) -> tuple[list[str], list[int | None], list[str]]:
    """`total` responses with campaigns of `sizes` edited as people do
    (`benchmarks.campaign_letters`) and `quoting` letters quoting the proposal: the texts,
    the planted campaign of each (None: not a campaign) and its edit family."""
    rng = random.Random(seed)
    rows: list[tuple[str, int | None, str]] = []
    for campaign, (size, template) in enumerate(
        zip(sizes, letters.template_bodies(), strict=False)
    ):
        for _ in range(size):
            family = rng.choice(letters.FAMILIES)
            own = " ".join(_sentence(rng) for _ in range(rng.randint(1, 2)))
            rows.append((letters.campaign_copy(rng, template, family, own), campaign, family))
    for _ in range(quoting):
        own = " ".join(_sentence(rng) for _ in range(rng.randint(2, 4)))
        rows.append((letters.quoting_letter(rng, own), None, "quoting"))
    while len(rows) < total:
        rows.append((unique_response(rng), None, "independent"))
    rng.shuffle(rows)
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]


def family_scores(
    groups: Sequence[CampaignGroup[int]], labels: Sequence[int | None], families: Sequence[str]
) -> dict[str, tuple[float, float, int]]:
    """Per edit family: pairwise precision and recall over the pairs that hold a response of
    the family (the share of grouped pairs that are right, of right pairs grouped), and
    how many of its letters were grouped with a letter of another campaign or none."""
    sizes = Counter(lb for lb in labels if lb is not None)
    predicted: Counter[str] = Counter()
    correct: Counter[str] = Counter()
    true: Counter[str] = Counter()
    wrong: Counter[str] = Counter()
    for index, label in enumerate(labels):
        if label is not None:
            true[families[index]] += sizes[label] - 1
    for group in groups:
        counts = Counter(labels[i] for i in group.members)
        for i in group.members:
            predicted[families[i]] += group.size - 1
            right = counts[labels[i]] - 1 if labels[i] is not None else 0
            correct[families[i]] += right
            wrong[families[i]] += right < group.size - 1
    result = {}
    for family in (*letters.FAMILIES, *letters.CONTROLS):
        p = correct[family] / predicted[family] if predicted[family] else 1.0
        r = correct[family] / true[family] if true[family] else float("nan")
        result[family] = (p, r, wrong[family])
    return result


def campaign_recall(
    groups: Sequence[CampaignGroup[int]], labels: Sequence[int | None]
) -> dict[int, tuple[int, int]]:
    """Per planted campaign: its size and how many of its copies its largest group holds."""
    sizes = Counter(lb for lb in labels if lb is not None)
    held = dict.fromkeys(sizes, 0)
    for group in groups:
        for label, n in Counter(labels[i] for i in group.members).items():
            if label is not None:
                held[label] = max(held[label], n)
    return {label: (sizes[label], held[label]) for label in sorted(sizes)}


def letters_held(
    groups: Sequence[CampaignGroup[int]], labels: Sequence[int | None], families: Sequence[str]
) -> Counter[str]:
    """Per family: how many of its copies are in their campaign's largest group (each
    letter counts once, whatever the size of its campaign)."""
    largest: dict[int, tuple[int, CampaignGroup[int]]] = {}
    for group in groups:
        for label, n in Counter(labels[i] for i in group.members).items():
            if label is not None and n > largest.get(label, (0, group))[0]:
                largest[label] = (n, group)
    held: Counter[str] = Counter()
    for label, (_, group) in largest.items():
        held.update(families[i] for i in group.members if labels[i] == label)
    return held


def _run_easy(total: int, seed: int) -> bool:
    texts, labels = generate(total, seed)
    print(
        f"easy: {len(texts)} responses, {sum(CAMPAIGN_SIZES)} copies of {len(CAMPAIGN_SIZES)} "
        f"form letters (sizes {', '.join(map(str, CAMPAIGN_SIZES))}) with small edits"
    )
    started = time.perf_counter()
    baseline = exact_groups(texts)
    baseline_time = time.perf_counter() - started
    started = time.perf_counter()
    groups = group_near_duplicates(list(enumerate(texts)))
    grouping_time = time.perf_counter() - started
    print(
        f"{'method':36} {'groups':>6} {'pair P':>7} {'pair R':>7} {'memb P':>7} "
        f"{'memb R':>7} {'time s':>7}"
    )
    for name, found, seconds in (
        ("exact normalised text (baseline)", baseline, baseline_time),
        ("near-duplicates", groups, grouping_time),
    ):
        s = score(found, labels)
        print(
            f"{name:36} {len(found):6d} {s['pair_precision']:7.3f} {s['pair_recall']:7.3f} "
            f"{s['member_precision']:7.3f} {s['member_recall']:7.3f} {seconds:7.1f}"
        )
    return min(score(groups, labels).values()) >= TARGET


def _run_hard(total: int, seed: int) -> bool:
    texts, labels, families = generate_hard(total, seed)
    print(
        f"\nhard: {len(texts)} responses, {sum(HARD_SIZES)} copies of {len(HARD_SIZES)} form "
        f"letters (sizes {', '.join(map(str, HARD_SIZES))}), {QUOTING_LETTERS} distinct letters "
        "quoting the proposal, the rest independent"
    )
    started = time.perf_counter()
    baseline = exact_groups(texts)
    baseline_time = time.perf_counter() - started
    started = time.perf_counter()
    groups = group_near_duplicates(list(enumerate(texts)), quoted=letters.PROPOSAL)
    grouping_time = time.perf_counter() - started
    ok = _print_family_table(groups, baseline, labels, families)
    s, e = score(groups, labels), score(baseline, labels)
    print(
        f"all pairs: precision {s['pair_precision']:.3f}, recall {s['pair_recall']:.3f} "
        f"(exact text {e['pair_precision']:.3f}, {e['pair_recall']:.3f})"
    )
    held = campaign_recall(groups, labels)
    print(
        "copies in their campaign's largest group: "
        + ", ".join(f"{n}/{size}" for size, n in held.values())
    )
    print(
        f"grouping {grouping_time:.1f} s, exact-text baseline {baseline_time:.1f} s; "
        "largest groups: " + ", ".join(str(g.size) for g in groups[:8])
    )
    return ok


def _print_family_table(
    groups: Sequence[CampaignGroup[int]],
    baseline: Sequence[CampaignGroup[int]],
    labels: Sequence[int | None],
    families: Sequence[str],
) -> bool:
    """The family x precision x recall table (Markdown); whether every cell meets TARGET
    (for the controls: at most 1 - TARGET of their letters grouped)."""
    exact = family_scores(baseline, labels, families)
    found = family_scores(groups, labels, families)
    counts = Counter(families)
    held = letters_held(groups, labels, families)
    print(
        "| edit family | letters | precision | recall | letters held | wrongly grouped | "
        "exact text: precision | recall |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    ok = True
    for family, (p, r, wrong) in found.items():
        ep, er, _ = exact[family]
        if family in letters.CONTROLS:
            cells = f"– | – | – | {wrong} ({wrong / counts[family]:.1%}) | – | –"
            ok = ok and wrong <= (1 - TARGET) * counts[family]
        else:
            share = held[family] / counts[family]
            cells = f"{p:.3f} | {r:.3f} | {share:.3f} | {wrong} | {ep:.3f} | {er:.3f}"
            ok = ok and p >= TARGET and r >= TARGET
        print(f"| {family} | {counts[family]} | {cells} |")
    return ok


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--only", choices=("easy", "hard"), default=None)
    args = parser.parse_args(argv)
    ok = True
    if args.only != "hard":
        ok = _run_easy(args.responses, args.seed) and ok
    if args.only != "easy":
        ok = _run_hard(args.responses, args.seed) and ok
    print(f"target precision and recall >= {TARGET}: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
