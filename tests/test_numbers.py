"""Shares and figures are rounded as people round them, halves up, everywhere they are
computed (pages, API, files and PDFs read the same rounded value)."""

from __future__ import annotations

import pytest

from tracker.numbers import percent, round_half_up, show_percent


@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [
        (4, 64, 6.3),
        (1, 16, 6.3),
        (1, 8, 12.5),
        (1, 3, 33.3),
        (2, 3, 66.7),
        (0, 0, 0.0),
        (5, 5, 100.0),
    ],
)
def test_a_share_rounds_halves_up(part, whole, expected):
    assert percent(part, whole) == expected


def test_round_half_up_reads_the_decimal_people_see():
    # 2.675 is stored as 2.67499999…; it reads "2.675", and people round that to 2.68
    assert round_half_up(2.675, 2) == 2.68
    assert round_half_up(0.125, 2) == 0.13
    assert round_half_up(83.33333, 1) == 83.3
    assert round_half_up(-6.25) == -6.3


@pytest.mark.parametrize(("locale", "shown"), [("az", "6,3%"), ("en", "6.3%")])
def test_the_rounded_share_is_shown_as_computed(app, locale, shown):
    from flask_babel import force_locale

    with app.test_request_context(), force_locale(locale):
        assert show_percent(percent(4, 64)) == shown
