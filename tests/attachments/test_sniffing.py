"""Telling a file's type from its bytes, and refusing names and types that disagree."""

import pytest

from tests.attachments.samples import EXECUTABLE, GIF, HTML, JPEG, JSON, LOG, PDF, PNG, WEBP, ZIP
from ticketdesk.attachments.sniffing import (
    RECOGNISED,
    TextCheck,
    ascii_name,
    extensions_of,
    media_type_of,
)
from ticketdesk.errors import UnsupportedMediaType

EVERYTHING = frozenset(RECOGNISED)


def _sniff(head: bytes, filename: str = "upload", declared: str | None = None) -> str:
    return media_type_of(
        head, filename=filename, declared=declared, allowed=EVERYTHING, complete=True
    )


def _refusal(head: bytes, filename: str = "upload", declared: str | None = None) -> str:
    with pytest.raises(UnsupportedMediaType) as caught:
        _sniff(head, filename, declared)
    return caught.value.code


@pytest.mark.parametrize(
    ("head", "media_type"),
    [
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (GIF, "image/gif"),
        (b"GIF87a" + bytes(20), "image/gif"),
        (WEBP, "image/webp"),
        (PDF, "application/pdf"),
        (ZIP, "application/zip"),
        (b"PK\x05\x06" + bytes(18), "application/zip"),
        (LOG, "text/plain"),
        ("Grüße, 世界 👋\n".encode(), "text/plain"),
        (b"\xef\xbb\xbfwith a byte order mark\n", "text/plain"),
    ],
)
def test_recognised_without_any_hint(head: bytes, media_type: str) -> None:
    assert _sniff(head) == media_type


@pytest.mark.parametrize(
    ("filename", "declared", "media_type"),
    [
        ("env.json", None, "application/json"),
        ("upload", "application/json", "application/json"),
        ("env.json", "text/plain", "application/json"),
        ("env.txt", None, "text/plain"),
        ("env", None, "text/plain"),
    ],
)
def test_json_needs_a_hint(filename: str, declared: str | None, media_type: str) -> None:
    assert _sniff(JSON, filename, declared) == media_type


def test_json_named_file_that_is_not_json() -> None:
    assert _refusal(LOG, "data.json") == "attachment_type_mismatch"


@pytest.mark.parametrize(
    "head",
    [
        HTML,
        b"  \n<html><body>hi</body></html>",
        b"<HTML>",
        b"<p>hello</p>",
        b"<!-- comment -->",
        b'<?xml version="1.0"?><svg/>',
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        b"\xef\xbb\xbf<script>alert(1)</script>",
        b"log line\n" * 20 + b"<script src=//evil.example></script>",
        b"#!/bin/sh\nrm -rf ~\n",
        PNG[:16] + b"<html><script>alert(1)</script>",
    ],
)
def test_markup_and_scripts_refused_whatever_the_name(head: bytes) -> None:
    assert _refusal(head, "innocent.txt", "text/plain") == "attachment_type_refused"


@pytest.mark.parametrize(
    ("filename", "declared"),
    [
        ("page.html", None),
        ("image.svg", None),
        ("app.js", None),
        ("upload", "text/html"),
        ("upload", "image/svg+xml"),
        ("upload", "application/javascript"),
    ],
)
def test_markup_names_and_types_refused_whatever_the_bytes(
    filename: str, declared: str | None
) -> None:
    assert _refusal(LOG, filename, declared) == "attachment_type_refused"


@pytest.mark.parametrize(
    ("head", "filename", "declared"),
    [
        (PDF, "photo.png", None),
        (PNG, "photo.jpg", "image/jpeg"),
        (PNG, "upload", "application/pdf"),
        (LOG, "photo.png", None),
        (ZIP, "notes.txt", None),
        (PNG, "photo.png", "text/plain"),
    ],
)
def test_bytes_disagreeing_with_a_hint(head: bytes, filename: str, declared: str | None) -> None:
    assert _refusal(head, filename, declared) == "attachment_type_mismatch"


@pytest.mark.parametrize(
    ("head", "filename", "declared", "media_type"),
    [
        (PNG, "PHOTO.PNG", "image/x-png", "image/png"),
        (JPEG, "photo.jpeg", "image/jpg", "image/jpeg"),
        (ZIP, "report.docx", "application/vnd.openxmlformats-officedocument", "application/zip"),
        (ZIP, "logs.zip", "application/x-zip-compressed", "application/zip"),
        (PNG, "photo.png", "application/octet-stream", "image/png"),
        (LOG, "server.log", "text/x-log", "text/plain"),
        (LOG, "data.csv", "text/csv", "text/plain"),
    ],
)
def test_aliases_and_unknown_hints(
    head: bytes, filename: str, declared: str | None, media_type: str
) -> None:
    assert _sniff(head, filename, declared) == media_type


@pytest.mark.parametrize(
    "head",
    [EXECUTABLE, b"\x00\x01\x02\x03binary", b"caf\xe9 in latin-1\n", "UTF-16".encode("utf-16")],
)
def test_unknown_content_not_allowed(head: bytes) -> None:
    assert _refusal(head) == "attachment_type_not_allowed"


def test_allow_list_decides() -> None:
    with pytest.raises(UnsupportedMediaType) as caught:
        media_type_of(
            PNG, filename="a.png", declared=None, allowed={"application/pdf"}, complete=True
        )

    assert caught.value.code == "attachment_type_not_allowed"
    assert "application/pdf" in caught.value.detail


def test_head_cut_inside_a_character_is_still_text() -> None:
    head = ("€" * 400).encode()[:1024]

    assert media_type_of(head, filename="a.txt", declared=None, allowed=EVERYTHING, complete=False)


@pytest.mark.parametrize(
    "filename",
    [
        "x.html.",
        "x.html...",
        "x.html. . ",
        "x.html%20",
        "x.html%2e",
        "x.html%2520",
        "x.HTML",
        "x.Svg.",
        "x.html::$DATA",
        "x.html:Zone.Identifier",
        "x\uff0ehtml",
        # Downloaded as x.html and x.svg by clients that read only the ASCII filename=.
        "x.ht\u0301ml",
        "x.h\u200dtml",
        "x.sv\u0308g",
    ],
)
def test_markup_names_however_disguised(filename: str) -> None:
    assert _refusal(LOG, filename, "text/plain") == "attachment_type_refused"


@pytest.mark.parametrize(
    ("filename", "extensions"),
    [
        ("notes.txt", {"txt"}),
        ("notes.txt.", {"txt"}),
        ("notes", set()),
        ("x.html::$DATA", {"html", "html__$data", "html::$data"}),
    ],
)
def test_extensions_of(filename: str, extensions: set[str]) -> None:
    assert extensions_of(filename) >= extensions
    assert "html" not in extensions_of("notes.txt.")


@pytest.mark.parametrize(
    "filename",
    [
        "invoice.vbs",
        "x.bat",
        "x.cmd",
        "x.wsf",
        "x.ps1",
        "x.url",
        "x.desktop",
        "x.xht",
        "x.shtm",
        "x.mht",
        "x.mhtml",
        "x.xslt",
        "notes.txt.exe",
    ],
)
def test_names_not_known_for_the_type_refused(filename: str) -> None:
    with pytest.raises(UnsupportedMediaType) as caught:
        _sniff(LOG, filename, "text/plain")

    assert caught.value.code == "attachment_name_not_allowed"
    assert caught.value.field == "files"
    extension = filename.rpartition(".")[2]
    assert f"A text/plain file may not be named .{extension}; name it .cfg, " in (
        caught.value.detail
    )


@pytest.mark.parametrize(
    ("head", "filename"),
    [
        (LOG, "server.log"),
        (LOG, "export.csv"),
        (LOG, "README.md"),
        (LOG, "config.yaml"),
        (LOG, "config.YML"),
        (LOG, "Makefile"),
        (JSON, "session.har"),
        (JSON, "env.json"),
        (JSON, "env.txt"),
        (ZIP, "report.docx"),
        (ZIP, "sheet.xlsx"),
        (JPEG, "photo.JFIF"),
    ],
)
def test_common_names_accepted(head: bytes, filename: str) -> None:
    assert _sniff(head, filename)


def test_binary_named_as_another_binary_refused() -> None:
    assert _refusal(PNG, "upload.bin") == "attachment_name_not_allowed"


@pytest.mark.parametrize(
    ("filename", "fallback"),
    [
        ("x.ht\u0301ml", "x.html"),
        ("x.h\u200dtml", "x.html"),
        ("Grüße.txt", "Grue.txt"),
        ('say "hi" 100%.txt', "say _hi_ 100_.txt"),
        ("日本.txt", "file.txt"),
    ],
)
def test_the_ascii_name_downloaded_is_among_those_checked(filename: str, fallback: str) -> None:
    assert ascii_name(filename) == fallback
    assert fallback.rpartition(".")[2] in extensions_of(filename)


def test_plain_name_with_trailing_dot_is_still_text() -> None:
    assert _sniff(LOG, "notes.txt.", "text/plain") == "text/plain"


class TestTextCheck:
    @pytest.mark.parametrize(
        "marker",
        [
            b"<script>",
            b"<SCRIPT src=x>",
            b"<svg onload=x>",
            b"<html>",
            b"<iframe/",
            b"<!DOCTYPE html>",
        ],
    )
    def test_markup_anywhere_in_the_file(self, marker: bytes) -> None:
        data = LOG * 200 + b"then " + marker + b" and more\n" + LOG
        # However the file is cut into chunks, the marker is found, even split in two.
        for size in (1, 3, 7, 1000, len(data)):
            check = TextCheck()

            def feed_all(check: TextCheck = check, size: int = size) -> None:
                for i in range(0, len(data), size):
                    check.feed(data[i : i + size])

            with pytest.raises(UnsupportedMediaType) as caught:
                feed_all()
            assert caught.value.code == "attachment_type_refused"

    def test_angle_brackets_that_are_not_markup(self) -> None:
        check = TextCheck()
        check.feed(LOG * 10 + b"if a <b and c> d: <scripted> <svgx> <html-ish>\n")
        check.feed(b"", final=True)

    def test_character_split_across_chunks(self) -> None:
        data = "naïve café €100\n".encode() * 10
        check = TextCheck()

        for i in range(0, len(data), 7):
            check.feed(data[i : i + 7])
        check.feed(b"", final=True)

    def test_nul_later_in_the_file(self) -> None:
        check = TextCheck()
        check.feed(LOG)

        with pytest.raises(UnsupportedMediaType) as caught:
            check.feed(b"ok\x00")

        assert caught.value.code == "not_text"

    def test_file_ending_inside_a_character(self) -> None:
        check = TextCheck()
        check.feed("€".encode()[:2])

        with pytest.raises(UnsupportedMediaType):
            check.feed(b"", final=True)
