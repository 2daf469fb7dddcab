"""A ``multipart/form-data`` body read as it arrives, one part at a time.

FastAPI's ``UploadFile`` spools each file to memory or temporary disk before the
endpoint runs; here the body is fed to python-multipart's push parser chunk by chunk
and each part's bytes are handed on as soon as they are parsed, so nothing larger than
one network chunk is held.
"""

import re
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect

from ticketdesk.errors import InvalidInput, TooLarge, UnsupportedMediaType

# Room for part headers; a 1,000-character name in four-byte characters still fits.
MAX_HEADER_BYTES = 8 * 1024
MAX_HEADERS_PER_PART = 8
# Browsers escape these three in form field and file names (WHATWG HTML, multipart/form-data
# encoding algorithm).
_BROWSER_ESCAPES = {"%22": '"', "%0D": "\r", "%0A": "\n"}
_BROWSER_ESCAPE = re.compile("|".join(_BROWSER_ESCAPES), re.IGNORECASE)


@dataclass(frozen=True)
class Part:
    """One part's headers: its form field, the client's file name and declared type."""

    name: str
    filename: str | None
    content_type: str | None


@dataclass(frozen=True)
class _Begin:
    part: Part


@dataclass(frozen=True)
class _Data:
    data: bytes


class _End:
    pass


_END = _End()


def _malformed(detail: str) -> InvalidInput:
    return InvalidInput(detail, code="malformed_multipart", field="files")


def _unescape(raw: bytes) -> str:
    """A name from a part header: UTF-8 inside latin-1 header bytes, browser escapes undone."""
    text = raw.decode("utf-8", "replace")
    return _BROWSER_ESCAPE.sub(lambda match: _BROWSER_ESCAPES[match[0].upper()], text)


def boundary_of(content_type: str | None) -> bytes:
    """The boundary of a ``multipart/form-data`` content type, or a 415."""
    media_type, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if media_type != b"multipart/form-data" or not boundary:
        raise UnsupportedMediaType(
            "Send the files as multipart/form-data.", code="multipart_required"
        )
    return boundary


class FormReader:
    """Parts of a form body, read on demand from ``body`` and cut off at ``max_bytes``."""

    def __init__(self, content_type: str | None, body: AsyncIterator[bytes], *, max_bytes: int):
        self._body = body
        self._max_bytes = max_bytes
        self._received = 0
        self._events: deque[_Begin | _Data | _End] = deque()
        self._finished = False
        self._in_part = False
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: dict[str, bytes] = {}
        self._parser = MultipartParser(
            boundary_of(content_type),
            {
                "on_header_field": self._on_header_field,
                "on_header_value": self._on_header_value,
                "on_header_end": self._on_header_end,
                "on_headers_finished": self._on_headers_finished,
                "on_part_data": self._on_part_data,
                "on_part_end": self._on_part_end,
                "on_end": self._on_end,
            },
            max_header_count=MAX_HEADERS_PER_PART,
            max_header_size=MAX_HEADER_BYTES,
        )

    # --- parser callbacks: they only queue what was parsed ---------------------------

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _on_header_end(self) -> None:
        name = self._header_field.decode("latin-1").lower()
        self._headers[name] = bytes(self._header_value)
        self._header_field.clear()
        self._header_value.clear()

    def _on_headers_finished(self) -> None:
        self._events.append(_Begin(self._part(self._headers)))
        self._headers = {}

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        self._events.append(_Data(data[start:end]))

    def _on_part_end(self) -> None:
        self._events.append(_END)

    def _on_end(self) -> None:
        self._finished = True

    @staticmethod
    def _part(headers: dict[str, bytes]) -> Part:
        disposition, params = parse_options_header(headers.get("content-disposition"))
        if disposition != b"form-data" or b"name" not in params:
            raise _malformed("Each part needs a Content-Disposition: form-data header with a name.")
        filename = params.get(b"filename")
        declared, _ = parse_options_header(headers.get("content-type"))
        return Part(
            name=_unescape(params[b"name"]),
            filename=_unescape(filename) if filename is not None else None,
            content_type=declared.decode("latin-1") or None,
        )

    # --- reading ---------------------------------------------------------------------

    async def _next_event(self) -> _Begin | _Data | _End | None:
        """The next parsed event, reading more of the body when none is queued."""
        while not self._events:
            if self._finished:
                return None
            try:
                chunk = await anext(self._body)
            except (StopAsyncIteration, ClientDisconnect):
                # The answer to a client that went away is never read, but it ends the
                # request without an error trace for something that is not a fault.
                raise _malformed("The body ended before the form was complete.") from None
            if not chunk:
                continue
            self._received += len(chunk)
            if self._received > self._max_bytes:
                raise TooLarge(
                    f"The request body is over the limit of {self._max_bytes} bytes.",
                    code="request_too_large",
                )
            try:
                self._parser.write(chunk)
            except MultipartParseError as exc:
                raise _malformed(f"The form body is malformed: {exc}") from None
        return self._events.popleft()

    async def next_part(self) -> Part | None:
        """The next part's headers, skipping what is left of the current one; None at the end."""
        while (event := await self._next_event()) is not None:
            if isinstance(event, _Begin):
                self._in_part = True
                return event.part
            if isinstance(event, _End):
                self._in_part = False
        return None

    async def part_data(self) -> AsyncIterator[bytes]:
        """The current part's bytes, as they arrive."""
        while self._in_part:
            event = await self._next_event()
            if isinstance(event, _Data):
                yield event.data
            elif isinstance(event, _End):
                self._in_part = False
            else:
                raise _malformed("The body ended inside a part.")
