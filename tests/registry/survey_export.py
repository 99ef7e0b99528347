"""A realistic export of the mapping survey's online form, with the truth behind it.

Each generated organisation first gets its answers as vocabulary keys (the truth); the
cells are then written the way the form's Excel export writes them: one column per
question headed by its text (some with the form's numbering, the staff grid as
"Question [item]"), several answers joined with ", " in one cell, labels spelt in any of
their Azerbaijani forms, in English or as keys, in any case and spacing, and free
"Digər" text mixed in. The tests count the truth by hand and compare with what the
registry computes after importing the cells.
"""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass, field
from datetime import datetime

from tracker.services.registry.labels import MULTI_FIELDS, OTHER, STAFF_FIELDS, catalogue

MONTHS_AZ = [
    "Yanvar",
    "Fevral",
    "Mart",
    "Aprel",
    "May",
    "İyun",
    "İyul",
    "Avqust",
    "Sentyabr",
    "Oktyabr",
    "Noyabr",
    "Dekabr",
]
NAME_STEMS = [
    "Gənclər",
    "Qadınlar",
    "Ekologiya",
    "Hüquq",
    "İnkişaf",
    "Şəffaflıq",
    "Təhsil",
    "Sağlamlıq",
    "İsmayıllı Regional",
    "Uşaq Hüquqları",
    "Əlillər",
    "Innovasiya",
    "Çevik Cəmiyyət",
    "Ölkə Dostları",
]
NAME_KINDS = ["İctimai Birliyi", "Mərkəzi", "Assosiasiyası", "Fondu", "Təşəbbüs Qrupu"]
#: free "Digər" answers that match no label
FREE_TEXT = {
    "services": [
        "Heyvanların müdafiəsi",
        "Mədəni irsin qorunması və turizm",
        "Kitabxana xidmətləri",
    ],
    "beneficiaries": ["Yaşlı insanlar", "Fermerlər və kənd sakinləri", "Jurnalistlər"],
    "training_needs": ["Rəqəmsal təhlükəsizlik", "Data jurnalistikası"],
    "donors": ["Yerli biznes", "Üzvlük haqları"],
}
INLINE_DONOR_NAMES = {
    "international": "USAID, Avropa İttifaqı",
    "other_national": "Bakı Şəhər Fondu",
}
NETWORKS = ["QHT Forumu", "NAYORA, QHT Forumu", "ŞT VCF AMP", "Uşaq Hüquqları üzrə QHT Alyansı"]
LEGAL_OTHER = ["Koalisiya", "Assosiasiya (qeydiyyatda)"]


@dataclass
class TruthRow:
    name: str
    legal_status: str | None
    founded_year: int | None
    website: bool
    social_media: bool
    choices: dict[str, set[str]] = field(default_factory=dict)
    staff: dict[str, int | None] = field(default_factory=dict)
    member: bool | None = None


@dataclass
class SurveyExport:
    headings: list[str]
    rows: list[list]
    truth: list[TruthRow]

    @property
    def table(self) -> list[list]:
        return [self.headings, *self.rows]


def _spell(option, rng: random.Random) -> str:
    """One of the ways a respondent's answer can be written."""
    forms = [*option.labels_az, option.label_en, option.key]
    text = rng.choice(forms)
    variant = rng.random()
    if variant < 0.15:
        text = text.upper()
    elif variant < 0.25:
        text = text.lower()
    elif variant < 0.32:
        text = "  " + text.replace(" ", "  ") + " "
    return text


def _headings(rng: random.Random) -> list[str]:
    labels = catalogue()
    q = labels.questions

    def question(name: str) -> str:
        item = q[name]
        if item.section_az and name.startswith("staff_"):
            return f"{item.section_az} [{item.az}]"
        if rng.random() < 0.5:
            number = (
                f"{item.number}{item.sub or ''}"
                if item.sub and item.sub.isalpha()
                else (f"{item.number}.{item.sub}" if item.sub else str(item.number))
            )
            return f"{number}. {item.az}"
        return item.az

    names = [
        "name",
        "name_en",
        "founded",
        "legal_status",
        "legal_address",
        "phone_fax",
        "email",
        "website_social",
        "contact_person",
        "services",
        "mission",
        "beneficiaries",
        "regions",
        *STAFF_FIELDS,
        "donors",
        "training_needs",
        "member_of_networks",
        "network_names",
        "recommendations",
    ]
    return ["Timestamp", *(question(name) for name in names)]


def _count_everyone(staff: dict[str, int | None], cells: list, total_cell: int) -> None:
    """A total of at least the men and women counted, as a real answer has (the import
    refuses fewer), written in the cell's own style."""
    total = staff["staff_total"]
    counted = (staff["staff_male"] or 0) + (staff["staff_female"] or 0)
    if total is None or counted <= total:
        return
    staff["staff_total"] = counted
    cell = cells[total_cell]
    cells[total_cell] = f"{counted} nəfər" if "nəfər" in str(cell) else type(cell)(counted)


def generate(count: int, seed: int = 2022, as_xlsx: bool = False) -> SurveyExport:
    rng = random.Random(seed)
    labels = catalogue()
    headings = _headings(rng)
    rows: list[list] = []
    truth: list[TruthRow] = []
    for index in range(count):
        name = f"{rng.choice(NAME_STEMS)} {rng.choice(NAME_KINDS)} №{index + 1}"
        row_truth = TruthRow(
            name=name, legal_status=None, founded_year=None, website=False, social_media=False
        )
        cells: list = [f"2022/0{rng.randint(1, 9)}/1{rng.randint(0, 9)} 10:2{index % 10}:33 GMT+4"]
        cells += [name, f"Organisation {index + 1}" if rng.random() < 0.6 else ""]

        # Founding date, written in the many ways people write it.
        year = rng.choice([None, *range(1990, 2023)])
        month = rng.randint(1, 12)
        row_truth.founded_year = year
        if year is None:
            cells.append("")
        else:
            style = rng.random()
            if as_xlsx and style < 0.2:
                cells.append(datetime(year, month, 1))
            elif style < 0.45:
                cells.append(f"{month:02d}.{year}")
            elif style < 0.65:
                cells.append(f"{MONTHS_AZ[month - 1]} {year}")
            elif style < 0.8:
                cells.append(f"{year}-{month:02d}")
            else:
                cells.append(str(year) if not as_xlsx else year)

        # Legal status: one answer, or free "Digər" text.
        status_roll = rng.random()
        if status_roll < 0.08:
            cells.append("")
        elif status_roll < 0.14:
            row_truth.legal_status = OTHER
            cells.append(rng.choice(LEGAL_OTHER))
        else:
            key = rng.choice([k for k in labels.keys("legal_status") if k != OTHER])
            row_truth.legal_status = key
            cells.append(_spell(labels.options["legal_status"][key], rng))

        cells += [
            f"Bakı, {rng.choice(['Nizami', 'Xətai', 'Nəsimi'])} küç. {index}",
            f"+994 12 {rng.randint(100, 999)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
            f"info{index}@example.az",
        ]
        web = rng.random()
        presence = []
        if web < 0.3:
            presence.append(f"www.org{index}.az")
            row_truth.website = True
        if 0.2 < web < 0.7:
            presence.append(f"https://facebook.com/org{index}")
            row_truth.social_media = True
        cells.append(", ".join(presence) if presence else rng.choice(["", "Yoxdur", "-"]))
        cells.append(f"Ad Soyad {index}")

        per_field: dict[str, str] = {}
        for list_name in MULTI_FIELDS:
            keys = [k for k in labels.keys(list_name) if k != OTHER]
            if rng.random() < 0.05:
                per_field[list_name] = ""
                row_truth.choices[list_name] = set()
                continue
            limit = 3 if list_name == "training_needs" else 6
            chosen = set(rng.sample(keys, rng.randint(1, min(limit, len(keys)))))
            pairs = [(k, _spell(labels.options[list_name][k], rng)) for k in sorted(chosen)]
            rng.shuffle(pairs)
            tail = []
            inline = None
            if list_name == "donors":
                inline = next(
                    (k for k in INLINE_DONOR_NAMES if k in chosen and rng.random() < 0.5), None
                )
            if inline:
                # "Label: names" goes last, as its names run to the end of the cell.
                label = labels.options["donors"][inline].labels_az[0]
                pairs = [p for p in pairs if p[0] != inline]
                tail.append(f"{label}: {INLINE_DONOR_NAMES[inline]}")
            if list_name == "regions" and "specific_communities" in chosen and rng.random() < 0.5:
                pairs = [p for p in pairs if p[0] != "specific_communities"]
                tail.append("Xüsusi icma/lar və ya rayonlar: Şəki, Qax")
            parts = [text for _, text in pairs]
            if list_name in FREE_TEXT and rng.random() < 0.2:
                chosen.add(OTHER)
                free = rng.choice(FREE_TEXT[list_name])
                parts.insert(rng.randint(0, len(parts)), rng.choice([free, f"Digər: {free}"]))
            parts += tail
            row_truth.choices[list_name] = chosen
            per_field[list_name] = ", ".join(parts)

        cells.append(per_field["services"])
        cells.append(f"Missiya {index}: vətəndaş cəmiyyətinin inkişafı")
        cells.append(per_field["beneficiaries"])
        cells.append(per_field["regions"])
        staff_cells = {}
        for name_ in STAFF_FIELDS:
            value = (
                None if rng.random() < 0.08 else int(rng.paretovariate(1.6)) - 1 + rng.randint(0, 5)
            )
            row_truth.staff[name_] = value
            staff_cells[name_] = len(cells)
            if value is None:
                cells.append(rng.choice(["", "-"]))
            elif rng.random() < 0.1:
                cells.append(f"{value} nəfər")
            else:
                cells.append(value if as_xlsx else str(value))
        _count_everyone(row_truth.staff, cells, staff_cells["staff_total"])
        cells.append(per_field["donors"])
        cells.append(per_field["training_needs"])

        member_roll = rng.random()
        if member_roll < 0.5:
            row_truth.member = True
            network = rng.choice(NETWORKS)
            if rng.random() < 0.5:
                cells += ["Bəli, hansı peşəkar qrup/ birlik", network]
            else:
                cells += [f"Bəli, {network}", ""]
        elif member_roll < 0.9:
            row_truth.member = False
            cells += [rng.choice(["Xeyr", "xeyir", "No"]), ""]
        else:
            cells += ["", ""]
        cells.append("Daha çox təlim" if rng.random() < 0.5 else "")
        rows.append(cells)
        truth.append(row_truth)
    return SurveyExport(headings, rows, truth)


def count_by_hand(truth: list[TruthRow]) -> dict:
    """The statistics of the truth, counted without the registry or its SQL."""
    labels = catalogue()
    total = len(truth)

    def group_of(year: int) -> str:
        if year <= 1994:
            return "before_1995"
        if year <= 1999:
            return "1995_1999"
        if year <= 2004:
            return "2000_2004"
        if year <= 2009:
            return "2005_2009"
        if year <= 2014:
            return "2010_2014"
        if year <= 2019:
            return "2015_2019"
        return "2020_plus"

    expected = {
        "total": total,
        "legal_status": {
            k: sum(1 for t in truth if t.legal_status == k) for k in labels.keys("legal_status")
        },
        "founding_year_groups": {g.key: 0 for g in labels.founding_groups},
        "web_presence": {
            "website": sum(t.website for t in truth),
            "social_media": sum(t.social_media for t in truth),
            "website_or_social_media": sum(t.website or t.social_media for t in truth),
            # every survey row is dated: each organisation answered question 5.4
            "neither": sum(not (t.website or t.social_media) for t in truth),
            "unknown": 0,
        },
        "membership": {
            "yes": sum(t.member is True for t in truth),
            "no": sum(t.member is False for t in truth),
        },
        "staff": {},
    }
    for t in truth:
        if t.founded_year is not None:
            expected["founding_year_groups"][group_of(t.founded_year)] += 1
    for list_name in MULTI_FIELDS:
        expected[list_name] = {
            k: sum(1 for t in truth if k in t.choices[list_name]) for k in labels.keys(list_name)
        }
    for name in STAFF_FIELDS:
        values = [t.staff[name] for t in truth if t.staff[name] is not None]
        expected["staff"][name] = {
            "valid": len(values),
            "missing": total - len(values),
            "mean": round(statistics.mean(values), 2) if values else None,
            "median": round(float(statistics.median(values)), 2) if values else None,
            "min": min(values) if values else None,
            "max": max(values) if values else None,
            "sum": sum(values),
        }
    return expected
