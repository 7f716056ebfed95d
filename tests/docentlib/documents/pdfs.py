"""Real PDFs for the parser tests, written byte by byte (no PDF-writing dependency).

Each page is a content stream that draws its lines with the standard Helvetica font, which is
what a word processor's export looks like to a text extractor.
"""

from __future__ import annotations

import io

from pypdf import PdfReader, PdfWriter


def _escape(line: str) -> str:
    return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(pages: list[list[str]], title: str | None = None) -> bytes:
    """A valid PDF 1.4 with one page per list of lines (an empty list draws nothing)."""
    n = len(pages)
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids ["
        + b" ".join(f"{4 + 2 * i} 0 R".encode() for i in range(n))
        + f"] /Count {n} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    for i, lines in enumerate(pages):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {5 + 2 * i} 0 R "
            "/Resources << /Font << /F1 3 0 R >> >> >>".encode()
        )
        ops = "".join(f"({_escape(line)}) Tj T* " for line in lines)
        body = f"BT /F1 12 Tf 16 TL 72 720 Td {ops}ET".encode("cp1252")
        objects.append(b"<< /Length %d >>\nstream\n" % len(body) + body + b"\nendstream")
    info = None
    if title is not None:
        objects.append(f"<< /Title ({_escape(title)}) >>".encode("cp1252"))
        info = len(objects)
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + obj + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    trailer = f"<< /Size {len(objects) + 1} /Root 1 0 R"
    trailer += f" /Info {info} 0 R >>" if info else " >>"
    out.write(f"trailer\n{trailer}\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def with_outline(pdf: bytes, entries: list[tuple[str, int, str | None]]) -> bytes:
    """Add bookmarks ``(title, page index, parent title or None)`` with pypdf's own writer."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    made = {}
    for title, page, parent in entries:
        made[title] = writer.add_outline_item(
            title=title, page_number=page, parent=made.get(parent) if parent else None
        )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def encrypted(pdf: bytes, user_password: str) -> bytes:
    """The same PDF locked with RC4-128 (pypdf writes that without a crypto package)."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password, owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
