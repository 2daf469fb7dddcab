"""Files of each kind, and multipart bodies built byte by byte (names included, unescaped)."""

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4
GIF = b"GIF89a\x01\x00\x01\x00" + bytes(200)
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(200)
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n" + b"%%EOF\n"
ZIP = b"PK\x03\x04\x14\x00\x00\x00" + bytes(200)
LOG = b"2024-05-01 12:00:01 INFO export started for report 7\n" * 40
JSON = b'{"app": "ticketdesk", "version": "1.4.2", "steps": [1, 2, 3]}\n'
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'
EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00" + bytes(300)

BOUNDARY = "ticketdesk-test-boundary"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


@dataclass(frozen=True)
class FilePart:
    """One file in a form: name and declared type exactly as sent."""

    filename: bytes | None
    content: bytes
    content_type: str | None = "application/octet-stream"
    field: str = "files"


def part_head(part: FilePart) -> bytes:
    """A part's boundary line and headers."""
    disposition = b'form-data; name="' + part.field.encode() + b'"'
    if part.filename is not None:
        disposition += b'; filename="' + part.filename + b'"'
    head = b"--" + BOUNDARY.encode() + b"\r\nContent-Disposition: " + disposition + b"\r\n"
    if part.content_type is not None:
        head += b"Content-Type: " + part.content_type.encode() + b"\r\n"
    return head + b"\r\n"


def form_body(parts: Iterable[FilePart]) -> bytes:
    """A whole ``multipart/form-data`` body."""
    body = b"".join(part_head(part) + part.content + b"\r\n" for part in parts)
    return body + b"--" + BOUNDARY.encode() + b"--\r\n"


class Trickle:
    """A body sent in pieces (chunked, no Content-Length), counting what was taken."""

    def __init__(self, pieces: Iterable[bytes]) -> None:
        self._pieces = iter(pieces)
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self._pieces:
            self.sent += len(piece)
            yield piece


def chunks_of(data: bytes, size: int = 64 * 1024) -> list[bytes]:
    """``data`` cut into network-sized chunks."""
    return [data[i : i + size] for i in range(0, len(data), size)]
