"""Reading a form body part by part as it arrives."""

from collections.abc import AsyncIterator

import pytest

from tests.attachments.samples import CONTENT_TYPE, LOG, PNG, FilePart, chunks_of, form_body
from ticketdesk.attachments.multipart import FormReader, Part
from ticketdesk.errors import InvalidInput, TooLarge, UnsupportedMediaType


async def _body(pieces: list[bytes]) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece


async def _read_all(reader: FormReader) -> list[tuple[Part, bytes]]:
    parts = []
    while (part := await reader.next_part()) is not None:
        parts.append((part, b"".join([chunk async for chunk in reader.part_data()])))
    return parts


@pytest.mark.parametrize("piece_size", [1, 7, 4096, 1 << 20])
async def test_parts_whatever_the_chunking(piece_size: int) -> None:
    body = form_body(
        [
            FilePart("résumé.png".encode(), PNG, "image/png"),
            FilePart(b"server.log", LOG, None),
            FilePart(None, b"no name"),
        ]
    )
    reader = FormReader(CONTENT_TYPE, _body(chunks_of(body, piece_size)), max_bytes=len(body))

    parts = await _read_all(reader)

    assert parts == [
        (Part(name="files", filename="résumé.png", content_type="image/png"), PNG),
        (Part(name="files", filename="server.log", content_type=None), LOG),
        (Part(name="files", filename=None, content_type="application/octet-stream"), b"no name"),
    ]


async def test_unread_data_is_skipped() -> None:
    body = form_body([FilePart(b"a.log", LOG), FilePart(b"b.png", PNG)])
    reader = FormReader(CONTENT_TYPE, _body(chunks_of(body, 100)), max_bytes=len(body))

    first = await reader.next_part()
    second = await reader.next_part()

    assert first is not None
    assert second is not None
    assert second.filename == "b.png"
    assert b"".join([chunk async for chunk in reader.part_data()]) == PNG


async def test_cut_off_at_the_byte_limit() -> None:
    body = form_body([FilePart(b"a.log", LOG * 100)])
    taken = 0

    async def counting() -> AsyncIterator[bytes]:
        nonlocal taken
        for piece in chunks_of(body, 1000):
            taken += len(piece)
            yield piece

    reader = FormReader(CONTENT_TYPE, counting(), max_bytes=5000)

    with pytest.raises(TooLarge) as caught:
        await _read_all(reader)

    assert caught.value.code == "request_too_large"
    assert taken == 6000


@pytest.mark.parametrize(
    "content_type",
    [None, "application/json", "multipart/form-data", "multipart/mixed; boundary=x"],
)
def test_not_a_form(content_type: str | None) -> None:
    with pytest.raises(UnsupportedMediaType):
        FormReader(content_type, _body([]), max_bytes=100)


async def test_part_without_a_name() -> None:
    body = b'--b\r\nContent-Disposition: form-data; filename="a.txt"\r\n\r\nhi\r\n--b--\r\n'
    reader = FormReader("multipart/form-data; boundary=b", _body([body]), max_bytes=1000)

    with pytest.raises(InvalidInput) as caught:
        await reader.next_part()

    assert caught.value.code == "malformed_multipart"


async def test_oversized_part_header() -> None:
    name = b"a" * 9000
    body = form_body([FilePart(name, LOG)])
    reader = FormReader(CONTENT_TYPE, _body([body]), max_bytes=len(body))

    with pytest.raises(InvalidInput) as caught:
        await reader.next_part()

    assert caught.value.code == "malformed_multipart"


async def test_browser_escapes_in_names_undone() -> None:
    body = form_body([FilePart(b"say %22hi%22%0d%0A.txt", LOG)])
    reader = FormReader(CONTENT_TYPE, _body([body]), max_bytes=len(body))

    part = await reader.next_part()

    assert part is not None
    assert part.filename == 'say "hi"\r\n.txt'
