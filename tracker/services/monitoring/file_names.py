"""The name a stored file goes by wherever it is shown or downloaded: never the name its
uploader gave it, which often names a person ("Murad_Monitorov_letter.pdf"), while a
public update names the organisation only.

A file is named after the record that cites it (an evidence item's title, a claim's
source title), cut down to the letters, digits and the dots and hyphens inside words, with
the extension of its detected kind; a title that leaves nothing gets a neutral name from
the file's public id ("evidence-Ab3dE9xY.pdf"). The name depends on nothing but the record
and the file (not the viewer, not the language), so a shared cache may keep a public
download's answer. The uploader's own name stays in StoredFile.original_filename, shown
only on the uploader's own form (its kept file) and in the admins' audit log.
"""

from __future__ import annotations

import re
import unicodedata

from tracker.models import StoredFile
from tracker.services.monitoring.file_checks import ALLOWED_KINDS

#: the longest stem of a file's name (the title is cut at a word where it can be)
MAX_STEM_LENGTH = 80
#: how many characters of the public id name a file whose title gives no name
SHORT_ID_LENGTH = 8
#: words, each of letters and digits (any script), with dots or hyphens only inside them
_WORD = re.compile(r"[^\W_]+(?:[.-][^\W_]+)*")
_EXTENSIONS = {kind.content_type: kind.extensions[0] for kind in ALLOWED_KINDS}


def _stem(title: str) -> str:
    words = _WORD.findall(unicodedata.normalize("NFC", title or ""))
    stem = " ".join(words)
    if len(stem) <= MAX_STEM_LENGTH:
        return stem
    cut = stem[: MAX_STEM_LENGTH + 1].rsplit(" ", 1)[0]
    return cut if cut and len(cut) <= MAX_STEM_LENGTH else stem[:MAX_STEM_LENGTH].rstrip(" .-")


def public_file_name(stored: StoredFile, title: str = "", kind: str = "evidence") -> str:
    """The file's name on every page, download and export: `title` made safe for a file
    name, or `kind` and the start of the file's public id when the title leaves nothing,
    with the extension of the file's detected kind ("Büdcə hesabatı 2021.pdf")."""
    stem = _stem(title) or f"{kind}-{stored.public_id[:SHORT_ID_LENGTH]}"
    extension = _EXTENSIONS.get(stored.content_type, "bin")
    return f"{stem}.{extension}"
