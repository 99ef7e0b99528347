"""Password hashing and the password policy."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from tests.accounts.conftest import login_with_form
from tracker.extensions import db
from tracker.services.accounts import users as accounts
from tracker.services.accounts.passwords import (
    PasswordPolicyError,
    check_password_policy,
    common_passwords,
    hash_password,
    needs_rehash,
    verify_password,
)
from tracker.services.errors import InvalidInput


def test_hashes_are_argon2id_at_owasp_parameters(app):
    hashed = hash_password("a long enough passphrase")
    # OWASP Password Storage Cheat Sheet: argon2id, m=19456 KiB, t=2, p=1.
    assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert verify_password(hashed, "a long enough passphrase")
    assert not verify_password(hashed, "a long enough passphrasE")
    assert not verify_password(None, "anything at all")
    assert not verify_password("not a hash", "anything at all")
    assert hash_password("same input") != hash_password("same input")  # salted


def test_a_weaker_hash_is_upgraded_at_the_next_login(app, client):
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("old parameters ok")
    assert needs_rehash(weak)
    user = accounts.create_user(db.session, email="old@example.org", role="reviewer")
    user.password_hash = weak
    db.session.commit()
    assert login_with_form(client, "old@example.org", "old parameters ok").status_code == 302
    db.session.refresh(user)
    assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert verify_password(user.password_hash, "old parameters ok")


def test_length_limits(app):
    with pytest.raises(PasswordPolicyError, match="at least 8"):
        check_password_policy("Zq7!xk2")
    check_password_policy("Zq7!xk2p")  # 8 characters
    check_password_policy("Zq7!" * 16)  # 64 characters
    check_password_policy("ə" * 100)  # non-ASCII passphrases are fine


def test_a_64_character_password_works_from_account_creation_to_login(app, client):
    password = "Tədbirlərin icrası ictimai nəzarət altında olmalıdır 2020-2022!!"
    assert len(password) == 64
    accounts.create_user(db.session, email="long@example.org", role="reviewer", password=password)
    db.session.commit()
    assert login_with_form(client, "long@example.org", password).status_code == 302


def test_the_common_password_list_is_the_top_ten_thousand(app):
    words = common_passwords()
    assert len(words) == 10_000
    for common in ("password", "12345678", "qwertyuiop", "iloveyou", "password1", "football"):
        assert common in words


@pytest.mark.parametrize(
    "password", ["password", "PassWord1", "12345678", "Qwertyuiop", "sunshine"]
)
def test_common_passwords_are_refused_whatever_their_case(app, password):
    with pytest.raises(PasswordPolicyError, match="most common"):
        check_password_policy(password)


def test_the_email_address_is_not_a_password(app):
    with pytest.raises(PasswordPolicyError, match="email"):
        check_password_policy("Monitor.Person@example.org", email="monitor.person@example.org")
    with pytest.raises(PasswordPolicyError, match="email"):
        check_password_policy("monitor.person", email="monitor.person@example.org")


def test_policy_errors_are_service_errors_that_name_the_field(app):
    with pytest.raises(InvalidInput) as refused:
        check_password_policy("short", field="new_password")
    assert isinstance(refused.value, PasswordPolicyError)
    assert refused.value.status == 400
    assert refused.value.problems == {"new_password": [refused.value.message]}
    assert refused.value.message == "Use at least 8 characters."


def test_the_cli_and_the_services_apply_the_same_policy(app):
    with pytest.raises(PasswordPolicyError):
        accounts.create_user(db.session, email="x@example.org", role="reviewer", password="short")
    with pytest.raises(PasswordPolicyError):
        accounts.create_user(
            db.session, email="y@example.org", role="reviewer", password="iloveyou1"
        )
