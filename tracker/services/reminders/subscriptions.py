"""Who gets which kind of reminder: the kinds each role receives, a person's choice to stop
one kind, and the signed unsubscribe links that the digests carry."""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, Serializer, URLSafeSerializer, base64_encode
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tracker.models import ReminderItem, ReminderOptOut, User
from tracker.services import audit
from tracker.services.errors import InvalidInput
from tracker.services.reminders.outbox import SENDABLE
from tracker.vocabulary import DeliveryStatus, ReminderKind, Role
from tracker.web.links import public_url

UNSUBSCRIBE_SALT = "unsubscribe"

#: Kinds that go to monitors; REVIEWER_KINDS go to reviewers.
MONITOR_KINDS = (
    ReminderKind.DEADLINE_APPROACHING,
    ReminderKind.OVERDUE,
    ReminderKind.UPDATE_STALE,
    ReminderKind.UPDATE_RETURNED,
    ReminderKind.UPDATE_APPROVED,
    ReminderKind.CLAIM_RETURNED,
    ReminderKind.CLAIM_APPROVED,
)
REVIEWER_KINDS = (
    ReminderKind.UPDATE_SUBMITTED,
    ReminderKind.REVIEW_WAITING,
    ReminderKind.CLAIM_PROPOSED,
)


def relevant_kinds(user: User, opted_out: set[ReminderKind]) -> list[ReminderKind]:
    """The kinds a person can receive given their role, and any they have stopped."""
    if user.role == Role.MONITOR:
        kinds = set(MONITOR_KINDS)
    elif user.role == Role.REVIEWER:
        kinds = set(REVIEWER_KINDS)
    else:
        kinds = set()
    kinds |= opted_out
    return [kind for kind in ReminderKind if kind in kinds]


def opted_out_kinds(session: Session, user_id: int) -> set[ReminderKind]:
    rows = session.scalars(
        select(ReminderOptOut.kind).where(
            ReminderOptOut.user_id == user_id, ReminderOptOut.is_active.is_(True)
        )
    )
    return {ReminderKind(kind) for kind in rows if kind in ReminderKind.__members__.values()}


def set_subscription(session: Session, user: User, kind: ReminderKind, subscribed: bool) -> bool:
    """Stop or restart one kind for one person. Stopping also cancels that kind's items
    that have not gone out yet. Returns False when nothing changed."""
    row = session.scalar(
        select(ReminderOptOut).where(ReminderOptOut.user_id == user.id, ReminderOptOut.kind == kind)
    )
    currently_subscribed = row is None or not row.is_active
    if currently_subscribed == subscribed:
        return False
    if row is None:
        row = ReminderOptOut(user_id=user.id, kind=str(kind))
        session.add(row)
    row.is_active = not subscribed
    if not subscribed:
        session.execute(
            update(ReminderItem)
            .where(
                ReminderItem.recipient_id == user.id,
                ReminderItem.kind == kind,
                ReminderItem.status.in_(SENDABLE),
            )
            .values(status=DeliveryStatus.CANCELLED)
        )
    audit.record(
        session,
        "reminders.subscribed" if subscribed else "reminders.unsubscribed",
        "user",
        user.id,
        actor=user,
        details={"kind": str(kind)},
    )
    return True


# --- unsubscribe links -----------------------------------------------------------------------


class InvalidUnsubscribeToken(InvalidInput):
    """The token was not made by this site, was altered, or names no one (400)."""


class _UncompressedSerializer(URLSafeSerializer):
    """URLSafeSerializer without its attempt to compress the payload. A payload this small
    never shrinks, so the library keeps it as it is: the tokens are the same, and links in
    emails already sent still work (loads reads either form). The attempt is not free: a
    reminder run makes thousands of tokens in the thread that composes digests, and
    zlib.compress lets go of the GIL, after which that thread waits for the sending
    threads (about a third of the composing time at 5,000 organisations)."""

    def dump_payload(self, obj) -> bytes:
        return base64_encode(Serializer.dump_payload(self, obj))


def _unsubscribe_serializer() -> URLSafeSerializer:
    return _UncompressedSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)


def make_unsubscribe_token(user_id: int, kind: ReminderKind) -> str:
    """A signed token naming one person and one kind. It does not expire: a link in an
    old email must still work."""
    return _unsubscribe_serializer().dumps({"u": user_id, "k": str(kind)})


def read_unsubscribe_token(token: str) -> tuple[int, ReminderKind]:
    try:
        data = _unsubscribe_serializer().loads(token)
    except BadSignature as error:
        raise InvalidUnsubscribeToken from error
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("u"), int)
        or data.get("k") not in ReminderKind.__members__.values()
    ):
        raise InvalidUnsubscribeToken
    return data["u"], ReminderKind(data["k"])


def unsubscribe_target(session: Session, token: str) -> tuple[User, ReminderKind]:
    """The person and the kind an unsubscribe link names."""
    user_id, kind = read_unsubscribe_token(token)
    user = session.get(User, user_id)
    if user is None:
        raise InvalidUnsubscribeToken
    return user, kind


# --- the one-click link of the List-Unsubscribe header (RFC 8058) ----------------------------

LIST_UNSUBSCRIBE_SALT = "list-unsubscribe"


def _list_serializer() -> URLSafeSerializer:
    return _UncompressedSerializer(current_app.config["SECRET_KEY"], salt=LIST_UNSUBSCRIBE_SALT)


def make_list_unsubscribe_token(user_id: int) -> str:
    """A signed token naming one person, for the link that stops every reminder email.
    A salt of its own: a one-kind token is not accepted in its place, nor the reverse."""
    return _list_serializer().dumps({"u": user_id})


def list_unsubscribe_url(user_id: int) -> str:
    """The one-click link that stops every reminder email of this person."""
    return public_url("notifications.unsubscribe_all", token=make_list_unsubscribe_token(user_id))


def list_unsubscribe_headers(url: str) -> dict[str, str]:
    """RFC 2369 and RFC 8058: mail clients offer "unsubscribe", and a POST to the link
    (authorised by its signed token, no cookie) stops the reminders."""
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def list_unsubscribe_target(session: Session, token: str) -> User:
    """The person a one-click link names; InvalidUnsubscribeToken (400) for any other."""
    try:
        data = _list_serializer().loads(token)
    except BadSignature as error:
        raise InvalidUnsubscribeToken from error
    user_id = data.get("u") if isinstance(data, dict) else None
    user = session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None:
        raise InvalidUnsubscribeToken
    return user


def unsubscribe_all(session: Session, user: User) -> list[ReminderKind]:
    """Stop every kind of reminder email for this person (the one-click unsubscribe);
    returns the kinds that were still on. Notifications already in the app stay there."""
    return [kind for kind in ReminderKind if set_subscription(session, user, kind, False)]
