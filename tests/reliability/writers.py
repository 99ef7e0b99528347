"""Writers for the fault suite: monitors posting status updates to the served app over
HTTP, each with a cookie jar of its own, as many browsers would."""

from __future__ import annotations

import threading
from contextlib import contextmanager

import requests

from tests.accounts.conftest import PASSWORD
from tests.monitoring.conftest import update_form
from tests.monitoring.files import padded_pdf

FILE_BYTES = 4 * 1024


def new_update_page(measure_id: int) -> str:
    return f"/monitor/measures/{measure_id}/updates/new?lang=en"


def post_updates(
    served,
    email: str,
    measure_id: int,
    tag: str,
    count: int,
    *,
    with_files: bool = False,
    tolerate_errors: bool = False,
) -> list[int]:
    """`count` draft updates whose English narrative is f"{tag}-{n}"; their statuses
    (with tolerate_errors, -1 for a request whose connection broke)."""
    client = served.client()
    client.login(email, PASSWORD)
    statuses = []
    for number in range(count):
        data = update_form(narrative_en=f"{tag}-{number}")
        files = None
        if with_files:
            data.pop("evidence-0-url")
            pdf = padded_pdf(FILE_BYTES, seed=hash((tag, number)) % 10_000)
            files = {"evidence-0-file": (f"{tag}-{number}.pdf", pdf)}
        try:
            response = client.post_form(new_update_page(measure_id), data, files=files)
        except requests.RequestException:
            if not tolerate_errors:
                raise
            statuses.append(-1)
            continue
        statuses.append(response.status_code)
    return statuses


@contextmanager
def writers_running(served, jobs: list[tuple], **options):
    """Each job (email, measure_id, tag, count) posts in a thread of its own while the
    block runs; yields the list that gets each job's statuses, complete after the block."""
    results: list[list[int]] = [[] for _ in jobs]

    def run(index: int, job: tuple) -> None:
        results[index] = post_updates(served, *job, **options)

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    try:
        yield results
    finally:
        for thread in threads:
            thread.join(timeout=120)
