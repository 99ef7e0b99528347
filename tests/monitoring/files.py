"""Files made in the tests, byte by byte: well-formed ones of every accepted kind, and the
malformed and hostile ones that the upload checks must refuse or flag."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib


def pdf_from_objects(objects: list[bytes], *, root: int = 1) -> bytes:
    """A PDF whose numbered objects are `objects` (object 1 first), with a correct
    cross-reference table and trailer."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        root,
        xref,
    )
    return bytes(out)


def simple_pdf(*, catalog_extra: bytes = b"", page_extra: bytes = b"", extra_objects=()) -> bytes:
    """One blank page; `catalog_extra` and `page_extra` go into those dictionaries, and
    `extra_objects` are numbered from 4 on."""
    return pdf_from_objects(
        [
            b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b">>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] " + page_extra + b">>",
            *extra_objects,
        ]
    )


def zip_bytes(entries: list[tuple[str, bytes]], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, content in entries:
            archive.writestr(name, content)
    return buffer.getvalue()


DOCX_TYPES = (
    b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    b'content-types"><Override PartName="/word/document.xml" ContentType="application/'
    b'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
WORD_NS = b"http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def word_document(body: bytes = b"<w:p><w:r><w:t>Report</w:t></w:r></w:p>") -> bytes:
    return (
        b'<?xml version="1.0"?><w:document xmlns:w="'
        + WORD_NS
        + b'"><w:body>'
        + body
        + b"</w:body></w:document>"
    )


def docx_with(document: bytes, *extra: tuple[str, bytes]) -> bytes:
    return zip_bytes([("[Content_Types].xml", DOCX_TYPES), ("word/document.xml", document), *extra])


def corrupt_compressed_part(archive: bytes, name: str) -> bytes:
    """The archive with the deflated data of entry `name` overwritten (its headers and the
    central directory intact): reading it raises zlib.error ("invalid block type"), as in
    the DOCX that the reliability review sent."""
    with zipfile.ZipFile(io.BytesIO(archive)) as reader:
        info = reader.getinfo(name)
    header = struct.unpack("<4s5H3L2H", archive[info.header_offset : info.header_offset + 30])
    start = info.header_offset + 30 + header[9] + header[10]
    data = bytearray(archive)
    data[start : start + info.compress_size] = b"\xff" * info.compress_size
    return bytes(data)


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
    )


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header declares width × height pixels and whose data holds one row."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    data = zlib.compress(b"\x00" + b"\x00" * min(width, 64))
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", data)
        + png_chunk(b"IEND", b"")
    )


def padded_pdf(size: int, seed: int = 0) -> bytes:
    """A valid one-page PDF of about `size` bytes: an unused stream of random (so
    incompressible) bytes makes up the weight."""
    import random

    payload = random.Random(seed).randbytes(size)
    stream = b"<< /Length %d >>\nstream\n" % len(payload) + payload + b"\nendstream"
    return simple_pdf(catalog_extra=b"/Padding 4 0 R", extra_objects=[stream])


def pdf_with_object_stream(hidden: bytes) -> bytes:
    """A PDF 1.5 whose object 4, the catalog's /OpenAction, is `hidden` inside a compressed
    object stream (indexed by a cross-reference stream): its keys are not in the file's
    bytes as written."""
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}

    def add(number: int, body: bytes) -> None:
        offsets[number] = len(out)
        out.extend(b"%d 0 obj\n" % number + body + b"\nendobj\n")

    add(1, b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>")
    add(2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
    add(3, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>")
    header = b"4 0 "
    packed = zlib.compress(header + hidden)
    add(
        5,
        b"<< /Type /ObjStm /N 1 /First %d /Filter /FlateDecode /Length %d >>\nstream\n"
        % (len(header), len(packed))
        + packed
        + b"\nendstream",
    )
    offsets[6] = len(out)
    rows = [b"\x00" + struct.pack(">I", 0) + b"\xff\xff"]
    for number in range(1, 7):
        if number == 4:
            rows.append(b"\x02" + struct.pack(">I", 5) + struct.pack(">H", 0))
        else:
            rows.append(b"\x01" + struct.pack(">I", offsets[number]) + b"\x00\x00")
    table = b"".join(rows)
    out.extend(
        b"6 0 obj\n<< /Type /XRef /Size 7 /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n"
        % len(table)
        + table
        + b"\nendstream\nendobj\n"
    )
    out.extend(b"startxref\n%d\n%%%%EOF\n" % offsets[6])
    return bytes(out)
