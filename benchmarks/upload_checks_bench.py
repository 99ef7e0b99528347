"""How long the structure checks of an upload take, for files near the 10 MB limit.

    .venv/bin/python benchmarks/upload_checks_bench.py

Each file is made here: a PDF of many pages with text (so pypdf walks many objects), a
PDF of one page and a 10 MB incompressible stream, a DOCX whose document.xml unpacks to
~60 MB, an XLSX of 100,000 rows, a 24-megapixel JPEG and a 12-megapixel PNG. Prints the
median of a few runs of uploads.check_upload (read, inspect, name) for each.
"""

from __future__ import annotations

import io
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.monitoring import files
from tracker import create_app
from tracker.services.monitoring import uploads

REPEATS = 3


def many_pages_pdf(pages: int) -> bytes:
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    kids = b" ".join(b"%d 0 R" % (3 + 2 * i) for i in range(pages))
    objects.append(b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages)
    for i in range(pages):
        text = b"BT /F1 12 Tf 20 100 Td (Page %d of the annual report) Tj ET" % i
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents %d 0 R >>"
            % (4 + 2 * i)
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream")
    return files.pdf_from_objects(objects)


def big_docx() -> bytes:
    paragraph = b"<w:p><w:r><w:t>" + b"Hesabat " * 40 + b"</w:t></w:r></w:p>"
    return files.docx_with(files.word_document(paragraph * 180_000))


def big_xlsx() -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    rng = random.Random(1)
    for row in range(100_000):
        sheet.append([row, f"Tədbir {row}", rng.random(), "2021-06-30"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def image(image_format: str, size: tuple[int, int]) -> bytes:
    from PIL import Image

    rng = random.Random(2)
    noise = Image.frombytes(
        "L", (size[0] // 8, size[1] // 8), rng.randbytes(size[0] * size[1] // 64)
    )
    buffer = io.BytesIO()
    noise.resize(size).convert("RGB").save(buffer, format=image_format, quality=85)
    return buffer.getvalue()


def cases() -> list[tuple[str, str, bytes]]:
    return [
        ("PDF, 20,000 pages of text", "a.pdf", many_pages_pdf(20_000)),
        ("PDF, one 9.5 MB stream", "b.pdf", files.padded_pdf(9_500_000)),
        ("DOCX, document.xml ~60 MB unpacked", "c.docx", big_docx()),
        ("XLSX, 100,000 rows", "d.xlsx", big_xlsx()),
        ("JPEG, 6000 x 4000", "e.jpg", image("JPEG", (6000, 4000))),
        ("PNG, 4000 x 3000", "f.png", image("PNG", (4000, 3000))),
    ]


def main() -> None:
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "MAX_UPLOAD_BYTES": 12 << 20})
    with app.app_context():
        print(f"{'file':40} {'size':>9} {'check (median)':>16}")
        for label, name, content in cases():
            times = []
            for _ in range(REPEATS):
                start = time.perf_counter()
                uploads.check_upload(uploads.Upload(name, io.BytesIO(content)))
                times.append(time.perf_counter() - start)
            size = f"{len(content) / 1_048_576:.1f} MB"
            print(f"{label:40} {size:>9} {statistics.median(times) * 1000:>13.0f} ms")


if __name__ == "__main__":
    main()
