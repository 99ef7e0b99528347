"""Matching the survey's answer labels: commas inside labels, az/en/key spellings,
Azerbaijani case rules, and the "Digər" free text."""

from __future__ import annotations

import pytest

from tracker.services.registry.import_cells import parse_count, parse_founded, split_web_presence
from tracker.services.registry.import_mapping import map_headings
from tracker.services.registry.labels import (
    CHOICE_FIELDS,
    MULTI_FIELDS,
    catalogue,
    load_catalogue,
)


def match(list_name: str, cell: str) -> dict[str, str]:
    return catalogue().matcher(list_name).match(cell).details


def test_every_label_of_every_list_matches_its_own_key_in_any_case_and_spacing():
    labels = catalogue()
    for list_name in CHOICE_FIELDS:
        for key, option in labels.options[list_name].items():
            for form in [*option.labels_az, option.label_en, key]:
                for variant in (form, form.upper(), form.lower(), f"  {form.replace(' ', '   ')} "):
                    assert list(match(list_name, variant)) == [key], (list_name, variant)


def test_labels_with_commas_inside_are_not_split():
    cell = (
        "Təhsil xidmətləri (təlimlər, dərsdənkənar fəaliyyətlər), Hüquq xidmətləri, "
        "Texniki məsləhət (tədqiqat, araşdırma, potensialın artırılması, monitorinq və "
        "qiymətləndirmə və s.)"
    )
    assert match("services", cell) == {"education": "", "legal": "", "technical_advice": ""}


def test_labels_in_azerbaijani_english_and_keys_mix_in_one_cell():
    cell = (
        "EDUCATION SERVICES (TRAINING COURSES, EXTRACURRICULAR ACTIVITIES), legal, "
        "Sosial innovasiya"
    )
    assert set(match("services", cell)) == {"education", "legal", "social_innovation"}


def test_azerbaijani_dotted_and_dotless_i_fold_the_same_way():
    # "İ" upper-cased or lower-cased by tools that do not know Azerbaijani.
    for cell in ("İCTİMAİ BİRLİK", "ICTIMAI BIRLIK", "ictimai birlik", "i̇ctimai birlik"):
        assert match("legal_status", cell) == {"public_union": ""}, cell


def test_punctuation_and_spacing_are_ignored():
    assert match("beneficiaries", "Gənclər / yeniyetmələr") == {"youth": ""}
    assert match("beneficiaries", "Gənclər/yeniyetmələr") == {"youth": ""}
    assert match("regions", "Lənkəran – Astara") == {"lankaran_astara": ""}
    assert match("regions", "Lənkaran-Astara, Şirvan-Səlyan") == {
        "lankaran_astara": "",
        "shirvan_salyan": "",
    }


def test_the_report_table_wording_imports_to_the_same_key_as_the_questionnaire():
    assert match("services", "Maliyyə xidmətləri və/və ya yardım üçün malların təmin edilməsi") == {
        "financial_aid": ""
    }
    assert match("beneficiaries", "Əlilliyi olan şəxslər/uşaqlar") == {"disabilities": ""}


def test_free_text_becomes_the_other_answer():
    assert match("services", "Hüquq xidmətləri, Heyvanların müdafiəsi") == {
        "legal": "",
        "other": "Heyvanların müdafiəsi",
    }


def test_the_digar_label_before_free_text_is_dropped_from_the_text():
    assert match("services", "Digər: ekologiya, Hüquq xidmətləri") == {
        "other": "ekologiya",
        "legal": "",
    }
    assert match("beneficiaries", "Digər (zəhmət olmasa qeyd edin)") == {"other": ""}
    assert match("beneficiaries", "Uşaqlar, Digər (yaşlılar)") == {
        "children": "",
        "other": "yaşlılar",
    }


def test_free_text_with_commas_is_kept_whole_between_labels():
    assert match("services", "Mədəni irs, turizm, Hüquq xidmətləri") == {
        "other": "Mədəni irs, turizm",
        "legal": "",
    }


def test_a_label_inside_free_text_is_not_taken_as_an_answer():
    # "Qadınlar" is a label, but here it is part of a longer answer.
    assert match("beneficiaries", "Kənddə yaşayan Qadınlar") == {"other": "Kənddə yaşayan Qadınlar"}


def test_names_after_a_label_and_colon_belong_to_that_answer():
    cell = (
        "Dövlət tərəfindən birgə maliyyələşdirilmiş, "
        "Beynəlxalq donorlar (zəhmət olmasa qeyd edin): USAID, EU"
    )
    assert match("donors", cell) == {"state_cofunded": "", "international": "USAID, EU"}
    assert match("regions", "Bakı şəhəri, Xüsusi icma/lar və ya rayonlar: Şəki, Qax") == {
        "baku": "",
        "specific_communities": "Şəki, Qax",
    }


def test_membership_answers_and_network_names():
    assert match("membership", "Bəli, hansı peşəkar qrup/ birlik") == {"yes": ""}
    assert match("membership", "Bəli, NAYORA, QHT Forumu") == {
        "yes": "",
        "other": "NAYORA, QHT Forumu",
    }
    assert match("membership", "Xeyir") == {"no": ""}
    assert match("membership", "no") == {"no": ""}


def test_an_empty_cell_has_no_answer():
    assert match("services", "") == {}
    assert match("services", "  ,  ") == {}


def test_catalogue_lists_every_vocabulary_key():
    labels = load_catalogue()
    assert len(labels.options["services"]) == 14
    assert len(labels.options["beneficiaries"]) == 13
    assert len(labels.options["regions"]) == 16
    assert len(labels.options["donors"]) == 7
    assert len(labels.options["training_needs"]) == 11
    assert len(labels.options["legal_status"]) == 12
    for list_name in MULTI_FIELDS:
        assert "other" in labels.options[list_name] or list_name == "regions"


def test_headings_in_azerbaijani_english_keys_numbered_and_bracketed_are_recognised():
    labels = catalogue()
    q = labels.questions
    headings = [
        "Timestamp",
        f"2. {q['name'].az}",
        q["name_en"].en,
        "4. Hüquqi status (zəhmət olmasa bir variant seçin)",
        "services",
        f"{q['staff_total'].section_az} [{q['staff_total'].az}]",
        "10.2 Kişi heyətin sayı",
        "Geographic coverage (please tick all that apply)",
        "Something else entirely",
    ]
    columns, ignored, problems = map_headings(headings)
    assert problems == []
    assert columns == {
        "completed_on": 0,
        "name": 1,
        "name_en": 2,
        "legal_status": 3,
        "services": 4,
        "staff_total": 5,
        "staff_male": 6,
        "regions": 7,
    }
    assert ignored == ["Something else entirely"]


def test_two_columns_for_one_question_and_a_missing_name_are_file_problems(english):
    _, _, problems = map_headings(["services", "Təqdim olunan xidmətlərin növləri"])
    messages = [str(p) for p in problems]
    assert any("both answer the same question" in m for m in messages)
    assert any("no column for the organisation's name" in m for m in messages)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("03.2005", (2005, 3)),
        ("2005-03", (2005, 3)),
        ("Mart 2005", (2005, 3)),
        ("İYUN 2010", (2010, 6)),
        ("2005-ci il", (2005, None)),
        ("2005", (2005, None)),
        (2005, (2005, None)),
        ("12.05.2010", (2010, 5)),
        ("", (None, None)),
    ],
)
def test_founding_dates_in_the_ways_people_write_them(value, expected):
    assert parse_founded(value) == expected


@pytest.mark.parametrize("value", ["1990-2000", "keçən il", "13.2005 və 2006"])
def test_unreadable_founding_dates_are_refused(value):
    with pytest.raises(ValueError):
        parse_founded(value)


def test_staff_counts():
    assert parse_count("12") == 12
    assert parse_count("12 nəfər") == 12
    assert parse_count(12.0) == 12
    assert parse_count("") is None
    assert parse_count("-") is None
    for bad in ("-3", "on iki", 2.5, "10-15"):
        with pytest.raises(ValueError):
            parse_count(bad)


def test_website_and_social_media_are_told_apart():
    assert split_web_presence("www.org.az, facebook.com/org") == ("www.org.az", "facebook.com/org")
    assert split_web_presence("https://org.az https://instagram.com/org") == (
        "https://org.az",
        "https://instagram.com/org",
    )
    assert split_web_presence("Yoxdur") == ("", "")
