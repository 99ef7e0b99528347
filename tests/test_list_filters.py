"""The lists' filters know whether the visitor narrowed the list (the page then offers
"Clear"): any choice counts, a yes/no filter's "no" included; the page's scope does not."""

from __future__ import annotations

from dataclasses import fields

import pytest

from tracker.services.plans.scorecard import MeasureFilter
from tracker.services.registry.search import RegistryFilter
from tracker.vocabulary import Completion

MEASURE_CHOICES = {
    "section": 3,
    "agency": "ministry-of-justice",
    "completion": Completion.LIMITED,
    "late": True,
    "query": "portal",
    "disputed": True,
    "monitored": True,
    "organisation": 7,
}
REGISTRY_CHOICES = {
    "query": "Bakı",
    "legal_status": "public_union",
    "service": "training",
    "beneficiary": "youth",
    "region": "baku",
    "membership": True,
    "kind": "coalition",
    "coalition_id": 4,
}


def test_every_filter_field_is_covered():
    assert set(MEASURE_CHOICES) == {field.name for field in fields(MeasureFilter)}
    assert set(REGISTRY_CHOICES) | {"archived"} == {field.name for field in fields(RegistryFilter)}


def test_no_choice_is_not_a_filter():
    assert not MeasureFilter().is_active
    assert not RegistryFilter().is_active
    assert not MeasureFilter(query="", agency="").is_active


@pytest.mark.parametrize(("name", "value"), MEASURE_CHOICES.items())
def test_each_measure_choice_narrows_the_scorecard(name, value):
    assert MeasureFilter(**{name: value}).is_active


@pytest.mark.parametrize(("name", "value"), REGISTRY_CHOICES.items())
def test_each_registry_choice_narrows_the_list(name, value):
    assert RegistryFilter(**{name: value}).is_active


@pytest.mark.parametrize("name", ["late", "disputed", "monitored"])
def test_a_yes_no_filters_no_is_a_choice(name):
    assert MeasureFilter(**{name: False}).is_active


def test_not_a_member_is_a_choice_but_the_archive_scope_is_not():
    assert RegistryFilter(membership=False).is_active
    assert not RegistryFilter(archived=True).is_active
    assert not RegistryFilter(archived=None).is_active
