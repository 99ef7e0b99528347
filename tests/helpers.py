"""Helpers shared by the tests."""

from __future__ import annotations

import re


def login(client, user) -> None:
    """Log a user in on the test client without going through the login form."""
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True


CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token_from(client, url: str) -> str:
    """The CSRF token of the form on a page, as a browser would send it."""
    response = client.get(url)
    match = CSRF_INPUT.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {url} (status {response.status_code})"
    return match.group(1)
