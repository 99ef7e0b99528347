"""The errors services raise. Each says what went wrong in the user's language, and carries
the HTTP meaning that the web layer (tracker.web.errors_map) turns into a status, so no
view has to catch an error only to translate it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


class ServiceError(Exception):
    """A request the service refuses.

    `message` says why; `problems` maps the names of the input's fields ("" for the input
    as a whole) to messages, so that a form can show each beside its field."""

    status: int = 400

    def __init__(
        self,
        message: object = "",
        *,
        problems: Mapping[str, Iterable[object]] | None = None,
        status: int | None = None,
    ) -> None:
        self.problems: dict[str, list[str]] = {
            name: [str(text) for text in texts] for name, texts in (problems or {}).items()
        }
        if not message and self.problems:
            message = next(text for texts in self.problems.values() for text in texts)
        self.message = str(message)
        if status is not None:
            self.status = status
        super().__init__(self.message)


class InvalidInput(ServiceError):
    """The input breaks a rule (400; 413 when a file is too large)."""

    status = 400


class NotAllowed(ServiceError):
    """This user may not do this (403)."""

    status = 403


class NotFound(ServiceError):
    """What the request names does not exist (404)."""

    status = 404


class StateConflict(ServiceError):
    """The record is no longer in the state the action needs: someone acted first (409)."""

    status = 409
