"""Uploading, listing, downloading and deleting a ticket's files, on disk and on S3."""

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response

from tests.attachments.conftest import Leftovers
from tests.attachments.samples import (
    CONTENT_TYPE,
    EXECUTABLE,
    GIF,
    HTML,
    JPEG,
    JSON,
    LOG,
    PDF,
    PNG,
    SVG,
    WEBP,
    ZIP,
    FilePart,
    Trickle,
    chunks_of,
    form_body,
    part_head,
)
from tests.factories import Accounts, Person, create_ticket
from ticketdesk.db import Connection
from ticketdesk.ticket_detail import TicketDetail

MIB = 1024 * 1024
FileSpec = tuple[str, bytes, str]


def _url(ticket: TicketDetail, rest: str = "") -> str:
    return f"/api/v1/tickets/{ticket.id}/attachments{rest}"


async def _upload(client: AsyncClient, ticket: TicketDetail, *files: FileSpec) -> Response:
    return await client.post(_url(ticket), files=[("files", spec) for spec in files])


async def _upload_raw(client: AsyncClient, ticket: TicketDetail, *parts: FilePart) -> Response:
    return await client.post(
        _url(ticket), content=form_body(parts), headers={"Content-Type": CONTENT_TYPE}
    )


async def _uploaded(client: AsyncClient, ticket: TicketDetail, spec: FileSpec) -> dict[str, Any]:
    response = await _upload(client, ticket, spec)
    assert response.status_code == 201, response.text
    attachment: dict[str, Any] = response.json()[0]
    return attachment


async def _rows(conn: Connection) -> int:
    cur = await conn.execute("select count(*) as n from attachments")
    row = await cur.fetchone()
    assert row is not None
    return int(row["n"])


async def _event_kinds(client: AsyncClient, ticket: TicketDetail) -> list[str]:
    response = await client.get(f"/api/v1/tickets/{ticket.id}/events")
    assert response.status_code == 200
    return [event["kind"] for event in response.json()["items"]]


def _person(accounts: Accounts, who: str) -> Person:
    person: Person = getattr(accounts, who)
    return person


async def _send_raw(
    app: FastAPI,
    path: str,
    headers: dict[str, str],
    pieces: list[bytes],
    *,
    disconnect: bool = False,
    before_piece: Callable[[int], Awaitable[None]] | None = None,
) -> int | None:
    """Drive the app at the ASGI level, as a server would; return the response status.

    With ``disconnect`` the client vanishes after the last piece, mid-body.
    """
    sent_pieces = 0
    done = anyio.Event()
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent_pieces
        if sent_pieces < len(pieces):
            if before_piece is not None:
                await before_piece(sent_pieces)
            sent_pieces += 1
            more = sent_pieces < len(pieces) or disconnect
            return {"type": "http.request", "body": pieces[sent_pieces - 1], "more_body": more}
        if not disconnect:
            await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])
        if message["type"] == "http.response.body" and not message.get("more_body"):
            done.set()

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    await app(scope, receive, send)
    return statuses[0] if statuses else None


class TestUpload:
    async def test_anonymous(self, anon: AsyncClient, ticket: TicketDetail) -> None:
        response = await _upload(anon, ticket, ("a.png", PNG, "image/png"))

        assert response.status_code == 401

    async def test_other_users_ticket(self, accounts: Accounts, ticket: TicketDetail) -> None:
        response = await _upload(accounts.bob.client, ticket, ("a.png", PNG, "image/png"))

        assert response.status_code == 404
        assert response.json()["code"] == "ticket_not_found"

    @pytest.mark.parametrize("who", ["alice", "agent", "admin"])
    async def test_owner_and_staff(
        self, accounts: Accounts, ticket: TicketDetail, who: str
    ) -> None:
        person = _person(accounts, who)

        response = await _upload(person.client, ticket, ("a.png", PNG, "image/png"))

        assert response.status_code == 201
        assert response.json()[0]["uploader_id"] == str(person.user.id)

    @pytest.mark.both_stores
    async def test_valid(
        self, accounts: Accounts, ticket: TicketDetail, leftovers: Leftovers
    ) -> None:
        files = [
            ("screenshot.png", PNG, "image/png"),
            ("crash.log", LOG, "text/x-log"),
            ("environment.json", JSON, "application/json"),
            ("invoice.pdf", PDF, "application/pdf"),
            ("logs.zip", ZIP, "application/x-zip-compressed"),
        ]

        response = await _upload(accounts.alice.client, ticket, *files)

        assert response.status_code == 201
        got = response.json()
        assert [(a["filename"], a["media_type"], a["size_bytes"], a["sha256"]) for a in got] == [
            (name, media_type, len(content), hashlib.sha256(content).hexdigest())
            for (name, content, _), media_type in zip(
                files,
                [
                    "image/png",
                    "text/plain",
                    "application/json",
                    "application/pdf",
                    "application/zip",
                ],
                strict=True,
            )
        ]
        assert got[0]["download_url"] == _url(ticket, f"/{got[0]['id']}/download")
        assert "storage_key" not in got[0]
        detail = (await accounts.alice.client.get(f"/api/v1/tickets/{ticket.number}")).json()
        assert [a["id"] for a in detail["attachments"]] == [a["id"] for a in got]
        kinds = await _event_kinds(accounts.agent.client, ticket)
        assert kinds.count("attachment_added") == 5
        keys = await leftovers()
        assert len(keys) == 5
        assert all(key.startswith(f"tickets/{ticket.id}/") for key in keys)

    async def test_by_number(self, accounts: Accounts, ticket: TicketDetail) -> None:
        response = await accounts.alice.client.post(
            f"/api/v1/tickets/{ticket.number}/attachments",
            files=[("files", ("a.gif", GIF, "image/gif"))],
        )

        assert response.status_code == 201
        assert response.json()[0]["ticket_id"] == str(ticket.id)

    @pytest.mark.both_stores
    async def test_too_many_files(
        self, accounts: Accounts, ticket: TicketDetail, conn: Connection, leftovers: Leftovers
    ) -> None:
        files = [(f"{n}.png", PNG, "image/png") for n in range(6)]

        response = await _upload(accounts.alice.client, ticket, *files)

        assert response.status_code == 422
        assert response.json()["code"] == "too_many_files"
        assert await _rows(conn) == 0
        assert await leftovers() == []

    async def test_no_files(self, accounts: Accounts, ticket: TicketDetail) -> None:
        response = await _upload_raw(accounts.alice.client, ticket)

        assert response.status_code == 422
        assert response.json()["code"] == "no_files"

    async def test_wrong_field_name(self, accounts: Accounts, ticket: TicketDetail) -> None:
        response = await _upload_raw(
            accounts.alice.client, ticket, FilePart(b"a.png", PNG, field="file")
        )

        assert response.status_code == 422
        assert response.json()["code"] == "unexpected_field"
        assert response.json()["field"] == "file"

    async def test_not_multipart(self, accounts: Accounts, ticket: TicketDetail) -> None:
        response = await accounts.alice.client.post(_url(ticket), json={"files": ["a.png"]})

        assert response.status_code == 415
        assert response.json()["code"] == "multipart_required"

    async def test_empty_file(
        self, accounts: Accounts, ticket: TicketDetail, leftovers: Leftovers
    ) -> None:
        response = await _upload(accounts.alice.client, ticket, ("empty.txt", b"", "text/plain"))

        assert response.status_code == 422
        assert response.json()["code"] == "empty_file"
        assert await leftovers() == []


class TestUploadSwitchedOff:
    @pytest.fixture
    def tickets_settings(self) -> dict[str, Any]:
        return {"allow_attachments": False}

    async def test_refused(self, accounts: Accounts, ticket: TicketDetail) -> None:
        response = await _upload(accounts.alice.client, ticket, ("a.png", PNG, "image/png"))

        assert response.status_code == 403
        assert response.json()["code"] == "attachments_disabled"


class TestUploadLimits:
    """The per-file limit is 1 MiB here; five files and some overhead make the body limit."""

    async def test_file_at_the_limit(self, accounts: Accounts, ticket: TicketDetail) -> None:
        content = (LOG * (MIB // len(LOG) + 1))[:MIB]

        response = await _upload(accounts.alice.client, ticket, ("big.log", content, "text/plain"))

        assert response.status_code == 201
        assert response.json()[0]["size_bytes"] == MIB

    @pytest.mark.both_stores
    async def test_file_over_the_limit(
        self, accounts: Accounts, ticket: TicketDetail, conn: Connection, leftovers: Leftovers
    ) -> None:
        content = (LOG * (MIB // len(LOG) + 1))[: MIB + 1]

        response = await _upload(accounts.alice.client, ticket, ("big.log", content, "text/plain"))

        assert response.status_code == 413
        assert response.json()["code"] == "attachment_too_large"
        assert await _rows(conn) == 0
        assert await leftovers() == []

    async def test_content_length_over_the_limit_refused_before_reading(
        self, accounts: Accounts, ticket: TicketDetail
    ) -> None:
        body = Trickle(chunks_of(form_body([FilePart(b"a.log", LOG * 20)])))

        response = await accounts.alice.client.post(
            _url(ticket),
            content=body,
            headers={"Content-Type": CONTENT_TYPE, "Content-Length": str(6 * MIB)},
        )

        assert response.status_code == 413
        assert response.json()["code"] == "request_too_large"
        assert body.sent == 0

    async def test_chunked_file_cut_off_at_the_limit(
        self, accounts: Accounts, ticket: TicketDetail, conn: Connection, leftovers: Leftovers
    ) -> None:
        head = part_head(FilePart(b"endless.log", b""))
        body = Trickle([head, *chunks_of(LOG * (3 * MIB // len(LOG)))])

        response = await accounts.alice.client.post(
            _url(ticket), content=body, headers={"Content-Type": CONTENT_TYPE}
        )

        assert response.status_code == 413
        assert response.json()["code"] == "attachment_too_large"
        # Refused within a chunk of passing the limit, not after reading all 3 MiB.
        assert body.sent < MIB + 2 * 64 * 1024
        assert await _rows(conn) == 0
        assert await leftovers() == []

    async def test_body_longer_than_its_content_length_cut_off(
        self, accounts: Accounts, ticket: TicketDetail, leftovers: Leftovers
    ) -> None:
        head = part_head(FilePart(b"endless.log", b""))
        body = Trickle([head, *chunks_of(LOG * (3 * MIB // len(LOG)))])

        response = await accounts.alice.client.post(
            _url(ticket),
            content=body,
            headers={"Content-Type": CONTENT_TYPE, "Content-Length": "2000"},
        )

        assert response.status_code == 413
        assert response.json()["code"] == "attachment_too_large"
        assert body.sent < MIB + 2 * 64 * 1024
        assert await leftovers() == []


class TestUploadTypes:
    @pytest.mark.parametrize(
        ("name", "content", "declared", "code"),
        [
            ("photo.png", HTML, "image/png", "attachment_type_refused"),
            ("photo.png", HTML, "application/octet-stream", "attachment_type_refused"),
            ("drawing.svg", SVG, "image/svg+xml", "attachment_type_refused"),
            ("notes.txt", SVG, "text/plain", "attachment_type_refused"),
            ("photo.png", PDF, "image/png", "attachment_type_mismatch"),
            ("report.pdf", PNG, "application/octet-stream", "attachment_type_mismatch"),
            ("screenshot", PNG, "application/pdf", "attachment_type_mismatch"),
            ("setup.exe", EXECUTABLE, "application/octet-stream", "attachment_type_not_allowed"),
        ],
    )
    async def test_refused(
        self,
        accounts: Accounts,
        ticket: TicketDetail,
        leftovers: Leftovers,
        name: str,
        content: bytes,
        declared: str,
        code: str,
    ) -> None:
        response = await _upload(accounts.alice.client, ticket, (name, content, declared))

        assert response.status_code == 415
        assert response.json()["code"] == code
        assert await leftovers() == []

    @pytest.mark.parametrize(
        ("name", "content", "declared", "media_type"),
        [
            ("photo.JPG", JPEG, "image/jpeg", "image/jpeg"),
            ("animation.gif", GIF, "image/gif", "image/gif"),
            ("photo.webp", WEBP, "image/webp", "image/webp"),
            ("scan", PDF, "application/octet-stream", "application/pdf"),
            ("output.log", JSON, "text/plain", "text/plain"),
        ],
    )
    async def test_sniffed(
        self,
        accounts: Accounts,
        ticket: TicketDetail,
        name: str,
        content: bytes,
        declared: str,
        media_type: str,
    ) -> None:
        attachment = await _uploaded(accounts.alice.client, ticket, (name, content, declared))

        assert attachment["media_type"] == media_type

    @pytest.mark.parametrize(
        "name", ["x.html.", "x.html%20", "x.HTML", "x.html::$DATA", "x.svg. . ", "x.htm%2e"]
    )
    async def test_markup_names_however_disguised(
        self, accounts: Accounts, ticket: TicketDetail, conn: Connection, name: str
    ) -> None:
        response = await _upload_raw(accounts.alice.client, ticket, FilePart(name.encode(), LOG))

        assert response.status_code == 415
        assert response.json()["code"] == "attachment_type_refused"
        assert response.json()["field"] == "files"
        assert await _rows(conn) == 0

    async def test_name_with_a_trailing_dot_that_is_text(
        self, accounts: Accounts, ticket: TicketDetail
    ) -> None:
        attachment = await _uploaded(
            accounts.alice.client, ticket, ("notes.txt.", LOG, "text/plain")
        )

        assert attachment["media_type"] == "text/plain"

    @pytest.mark.both_stores
    @pytest.mark.parametrize("marker", [b"<script>alert(1)</script>", b"<svg onload=alert(1)>"])
    async def test_markup_deep_in_a_text_file(
        self,
        accounts: Accounts,
        ticket: TicketDetail,
        conn: Connection,
        leftovers: Leftovers,
        marker: bytes,
    ) -> None:
        # Far past the first kilobyte, after the store has begun writing the file.
        content = LOG * 200 + marker + LOG * 10

        response = await _upload(accounts.alice.client, ticket, ("a.log", content, "text/plain"))

        assert response.status_code == 415
        assert response.json()["code"] == "attachment_type_refused"
        assert await _rows(conn) == 0
        assert await leftovers() == []

    async def test_binary_after_a_text_start(
        self, accounts: Accounts, ticket: TicketDetail, leftovers: Leftovers
    ) -> None:
        content = LOG * 10 + b"\x00\x01\x02" + LOG

        response = await _upload(accounts.alice.client, ticket, ("a.log", content, "text/plain"))

        assert response.status_code == 415
        assert response.json()["code"] == "not_text"
        assert await leftovers() == []

    @pytest.mark.both_stores
    async def test_one_bad_file_refuses_the_batch(
        self, accounts: Accounts, ticket: TicketDetail, conn: Connection, leftovers: Leftovers
    ) -> None:
        response = await _upload(
            accounts.alice.client,
            ticket,
            ("ok.png", PNG, "image/png"),
            ("ok.pdf", PDF, "application/pdf"),
            ("evil.png", HTML, "image/png"),
        )

        assert response.status_code == 415
        assert await _rows(conn) == 0
        assert await leftovers() == []


class TestQuota:
    """Two MiB a person here, each file at most one."""

    @pytest.fixture
    def tickets_settings(self) -> dict[str, Any]:
        return {"max_attachment_size_mb": 1, "attachment_quota_mb": 2}

    @staticmethod
    def _log(size: int) -> bytes:
        return (LOG * (size // len(LOG) + 1))[:size]

    async def test_up_to_the_quota(self, accounts: Accounts, ticket: TicketDetail) -> None:
        for name in ("a.log", "b.log"):
            await _uploaded(accounts.alice.client, ticket, (name, self._log(MIB), "text/plain"))

    @pytest.mark.both_stores
    async def test_over_the_quota_stores_nothing(
        self, accounts: Accounts, ticket: TicketDetail, conn: Connection, leftovers: Leftovers
    ) -> None:
        first = await _uploaded(
            accounts.alice.client, ticket, ("a.log", self._log(MIB), "text/plain")
        )
        kept = await leftovers()

        # The second file of this upload takes Alice past 2 MiB, halfway through.
        response = await _upload(
            accounts.alice.client,
            ticket,
            ("b.log", self._log(MIB // 2), "text/plain"),
            ("c.log", self._log(MIB), "text/plain"),
        )

        assert response.status_code == 413
        problem = response.json()
        assert problem["code"] == "attachment_quota_exceeded"
        assert problem["field"] == "files"
        assert "2 MB" in problem["detail"]
        assert await _rows(conn) == 1
        assert await leftovers() == kept
        listed = await accounts.alice.client.get(_url(ticket))
        assert [a["id"] for a in listed.json()] == [first["id"]]

    async def test_per_person(
        self, accounts: Accounts, ticket: TicketDetail, conn: Connection
    ) -> None:
        for name in ("a.log", "b.log"):
            await _uploaded(accounts.alice.client, ticket, (name, self._log(MIB), "text/plain"))

        full = await _upload(accounts.alice.client, ticket, ("c.log", LOG, "text/plain"))
        other = await _upload(accounts.agent.client, ticket, ("c.log", LOG, "text/plain"))

        assert full.status_code == 413
        assert other.status_code == 201

    async def test_deleting_makes_room(self, accounts: Accounts, ticket: TicketDetail) -> None:
        first = await _uploaded(
            accounts.alice.client, ticket, ("a.log", self._log(MIB), "text/plain")
        )
        await _uploaded(accounts.alice.client, ticket, ("b.log", self._log(MIB), "text/plain"))
        deleted = await accounts.alice.client.delete(_url(ticket, f"/{first['id']}"))
        assert deleted.status_code == 204

        await _uploaded(accounts.alice.client, ticket, ("c.log", self._log(MIB), "text/plain"))

    @pytest.mark.both_stores
    async def test_two_uploads_at_once(
        self, accounts: Accounts, ticket: TicketDetail, conn: Connection, leftovers: Leftovers
    ) -> None:
        """Each fits alone, both do not: one is stored, the other leaves nothing behind.

        The two go to different tickets, so only the uploader's own lock stands between
        them, not the ticket's row.
        """
        other = await create_ticket(conn, accounts.alice)
        await _uploaded(accounts.alice.client, ticket, ("a.log", self._log(MIB), "text/plain"))
        statuses: list[int] = []

        async def upload(target: TicketDetail, name: str) -> None:
            spec = (name, self._log(MIB * 3 // 4), "text/plain")
            statuses.append((await _upload(accounts.alice.client, target, spec)).status_code)

        async with anyio.create_task_group() as group:
            group.start_soon(upload, ticket, "b.log")
            group.start_soon(upload, other, "c.log")

        assert sorted(statuses) == [201, 413]
        assert await _rows(conn) == 2
        assert len(await leftovers()) == 2


class TestNoQuota:
    @pytest.fixture
    def tickets_settings(self) -> dict[str, Any]:
        return {"max_attachment_size_mb": 1, "attachment_quota_mb": 0}

    async def test_unlimited(
        self, accounts: Accounts, ticket: TicketDetail, conn: Connection
    ) -> None:
        content = (LOG * (MIB // len(LOG) + 1))[:MIB]
        for name in ("a.log", "b.log", "c.log"):
            await _uploaded(accounts.alice.client, ticket, (name, content, "text/plain"))

        assert await _rows(conn) == 3


class TestAllowList:
    @pytest.fixture
    def tickets_settings(self) -> dict[str, Any]:
        return {"allowed_attachment_types": ["application/pdf", "text/plain"]}

    async def test_type_off_the_list(self, accounts: Accounts, ticket: TicketDetail) -> None:
        response = await _upload(accounts.alice.client, ticket, ("a.png", PNG, "image/png"))

        assert response.status_code == 415
        assert response.json()["code"] == "attachment_type_not_allowed"
        assert "application/pdf, text/plain" in response.json()["detail"]

    async def test_type_on_the_list(self, accounts: Accounts, ticket: TicketDetail) -> None:
        response = await _upload(accounts.alice.client, ticket, ("a.pdf", PDF, "application/pdf"))

        assert response.status_code == 201


class TestFileNames:
    @pytest.mark.parametrize(
        ("sent", "shown"),
        [
            (b"../../etc/passwd", "passwd"),
            (b"..\\..\\windows\\system.ini", "system.ini"),
            (b"/absolute/path/notes.txt", "notes.txt"),
            (b"bad\x01\x07\x1bname.txt", "badname.txt"),
            # U+202E RIGHT-TO-LEFT OVERRIDE would display this as "evilexe.txt".
            ("evil\u202etxt.exe.txt".encode(), "eviltxt.exe.txt"),
            ("résumé 📎.txt".encode(), "résumé 📎.txt"),
            # How browsers escape quotes and line breaks in names.
            (b"say %22hi%22.txt", 'say "hi".txt'),
            (b"two%0D%0Alines.txt", "twolines.txt"),
            (b"", "file"),
            (b"..", "file"),
            (b"   ", "file"),
            (None, "file"),
        ],
    )
    async def test_shown_clean_and_stored_under_a_generated_key(
        self,
        accounts: Accounts,
        ticket: TicketDetail,
        leftovers: Leftovers,
        sent: bytes | None,
        shown: str,
    ) -> None:
        response = await _upload_raw(accounts.alice.client, ticket, FilePart(sent, LOG))

        assert response.status_code == 201
        assert response.json()[0]["filename"] == shown
        [key] = await leftovers()
        assert key.startswith(f"tickets/{ticket.id}/")
        assert ".." not in key
        assert "passwd" not in key

    @pytest.mark.parametrize("char", ["a", "é", "📎"])
    async def test_very_long_name_keeps_its_extension(
        self, accounts: Accounts, ticket: TicketDetail, char: str
    ) -> None:
        name = char * 996 + ".txt"

        response = await _upload_raw(accounts.alice.client, ticket, FilePart(name.encode(), LOG))

        assert response.status_code == 201
        shown = response.json()[0]["filename"]
        assert len(shown) == 255
        assert shown == char * 251 + ".txt"

    async def test_line_break_in_the_name(
        self, accounts: Accounts, ticket: TicketDetail, leftovers: Leftovers
    ) -> None:
        response = await _upload_raw(
            accounts.alice.client, ticket, FilePart(b"two\r\nlines.txt", LOG)
        )

        assert response.status_code == 422
        assert response.json()["code"] == "malformed_multipart"
        assert await leftovers() == []


class TestList:
    async def test_anonymous(self, anon: AsyncClient, ticket: TicketDetail) -> None:
        assert (await anon.get(_url(ticket))).status_code == 401

    async def test_other_users_ticket(self, accounts: Accounts, ticket: TicketDetail) -> None:
        assert (await accounts.bob.client.get(_url(ticket))).status_code == 404

    @pytest.mark.parametrize("who", ["alice", "agent", "admin"])
    async def test_valid(self, accounts: Accounts, ticket: TicketDetail, who: str) -> None:
        first = await _uploaded(accounts.alice.client, ticket, ("a.png", PNG, "image/png"))
        second = await _uploaded(accounts.agent.client, ticket, ("b.pdf", PDF, "application/pdf"))

        response = await _person(accounts, who).client.get(_url(ticket))

        assert response.status_code == 200
        assert [a["id"] for a in response.json()] == [first["id"], second["id"]]


class TestDownload:
    @pytest.mark.both_stores
    async def test_headers_and_bytes(self, accounts: Accounts, ticket: TicketDetail) -> None:
        attachment = await _uploaded(
            accounts.alice.client, ticket, ('Screen shot "1" % é.png', PNG, "image/png")
        )

        response = await accounts.alice.client.get(attachment["download_url"])

        assert response.status_code == 200
        assert response.content == PNG
        assert response.headers["content-type"] == "image/png"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-length"] == str(len(PNG))
        assert response.headers["content-disposition"] == (
            'attachment; filename="Screen shot _1_ _ e.png"; '
            "filename*=UTF-8''Screen%20shot%20%221%22%20%25%20%C3%A9.png"
        )
        assert response.headers["etag"] == f'"{hashlib.sha256(PNG).hexdigest()}"'

    async def test_name_without_ascii_letters(
        self, accounts: Accounts, ticket: TicketDetail
    ) -> None:
        attachment = await _uploaded(
            accounts.alice.client, ticket, ("отчёт.pdf", PDF, "application/pdf")
        )

        response = await accounts.alice.client.get(attachment["download_url"])

        assert response.headers["content-disposition"] == (
            "attachment; filename=\"file.pdf\"; filename*=UTF-8''%D0%BE%D1%82%D1%87%D1%91%D1%82.pdf"
        )

    async def test_text_is_served_as_plain_text(
        self, accounts: Accounts, ticket: TicketDetail
    ) -> None:
        attachment = await _uploaded(
            accounts.alice.client, ticket, ("crash.log", LOG, "text/plain")
        )

        response = await accounts.alice.client.get(attachment["download_url"])

        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        assert response.headers["content-disposition"].startswith("attachment;")
        assert response.content == LOG

    @pytest.mark.both_stores
    async def test_large_file_streams_whole(self, accounts: Accounts, ticket: TicketDetail) -> None:
        content = (LOG * (MIB // len(LOG) + 1))[:MIB]
        attachment = await _uploaded(
            accounts.alice.client, ticket, ("big.log", content, "text/plain")
        )

        response = await accounts.alice.client.get(attachment["download_url"])

        assert hashlib.sha256(response.content).hexdigest() == attachment["sha256"]

    async def test_anonymous(
        self, accounts: Accounts, anon: AsyncClient, ticket: TicketDetail
    ) -> None:
        attachment = await _uploaded(accounts.alice.client, ticket, ("a.png", PNG, "image/png"))

        assert (await anon.get(attachment["download_url"])).status_code == 401

    async def test_other_users_ticket(self, accounts: Accounts, ticket: TicketDetail) -> None:
        attachment = await _uploaded(accounts.alice.client, ticket, ("a.png", PNG, "image/png"))

        response = await accounts.bob.client.get(attachment["download_url"])

        assert response.status_code == 404

    @pytest.mark.parametrize("who", ["alice", "agent", "admin"])
    async def test_owner_and_staff(
        self, accounts: Accounts, ticket: TicketDetail, who: str
    ) -> None:
        attachment = await _uploaded(accounts.agent.client, ticket, ("a.png", PNG, "image/png"))

        response = await _person(accounts, who).client.get(attachment["download_url"])

        assert response.status_code == 200
        assert response.content == PNG

    async def test_through_another_ticket(
        self, accounts: Accounts, conn: Connection, ticket: TicketDetail
    ) -> None:
        attachment = await _uploaded(accounts.alice.client, ticket, ("a.png", PNG, "image/png"))
        other = await create_ticket(conn, accounts.alice)

        response = await accounts.alice.client.get(_url(other, f"/{attachment['id']}/download"))

        assert response.status_code == 404
        assert response.json()["code"] == "attachment_not_found"


class TestDelete:
    @pytest.mark.both_stores
    async def test_uploader_within_the_window(
        self, accounts: Accounts, ticket: TicketDetail, leftovers: Leftovers
    ) -> None:
        attachment = await _uploaded(accounts.alice.client, ticket, ("a.png", PNG, "image/png"))

        response = await accounts.alice.client.delete(_url(ticket, f"/{attachment['id']}"))

        assert response.status_code == 204
        assert (await accounts.alice.client.get(_url(ticket))).json() == []
        assert (await accounts.alice.client.get(attachment["download_url"])).status_code == 404
        assert await leftovers() == []
        events = (await accounts.alice.client.get(f"/api/v1/tickets/{ticket.id}/events")).json()
        deleted = [e for e in events["items"] if e["kind"] == "attachment_deleted"]
        assert len(deleted) == 1
        assert deleted[0]["data"] == {"attachment_id": attachment["id"], "filename": "a.png"}
        assert deleted[0]["actor"]["id"] == str(accounts.alice.user.id)

    async def test_uploader_after_the_window(
        self, accounts: Accounts, conn: Connection, ticket: TicketDetail
    ) -> None:
        attachment = await _uploaded(accounts.alice.client, ticket, ("a.png", PNG, "image/png"))
        await conn.execute(
            "update attachments set created_at = now() - interval '16 minutes' where id = %s",
            (attachment["id"],),
        )

        response = await accounts.alice.client.delete(_url(ticket, f"/{attachment['id']}"))

        assert response.status_code == 403
        assert response.json()["code"] == "attachment_delete_window_passed"
        assert len((await accounts.alice.client.get(_url(ticket))).json()) == 1

    async def test_submitter_cannot_delete_staff_files(
        self, accounts: Accounts, ticket: TicketDetail
    ) -> None:
        attachment = await _uploaded(accounts.agent.client, ticket, ("a.png", PNG, "image/png"))

        response = await accounts.alice.client.delete(_url(ticket, f"/{attachment['id']}"))

        assert response.status_code == 403
        assert response.json()["code"] == "attachment_delete_forbidden"

    @pytest.mark.parametrize("who", ["agent", "admin"])
    async def test_staff_any_time(
        self,
        accounts: Accounts,
        conn: Connection,
        ticket: TicketDetail,
        leftovers: Leftovers,
        who: str,
    ) -> None:
        attachment = await _uploaded(accounts.alice.client, ticket, ("a.png", PNG, "image/png"))
        await conn.execute("update attachments set created_at = now() - interval '30 days'")

        response = await _person(accounts, who).client.delete(_url(ticket, f"/{attachment['id']}"))

        assert response.status_code == 204
        assert await leftovers() == []
        assert "attachment_deleted" in await _event_kinds(accounts.alice.client, ticket)

    async def test_anonymous(
        self, accounts: Accounts, anon: AsyncClient, ticket: TicketDetail
    ) -> None:
        attachment = await _uploaded(accounts.alice.client, ticket, ("a.png", PNG, "image/png"))

        assert (await anon.delete(_url(ticket, f"/{attachment['id']}"))).status_code == 401

    async def test_other_users_ticket(self, accounts: Accounts, ticket: TicketDetail) -> None:
        attachment = await _uploaded(accounts.alice.client, ticket, ("a.png", PNG, "image/png"))

        response = await accounts.bob.client.delete(_url(ticket, f"/{attachment['id']}"))

        assert response.status_code == 404


class TestDeleteWindowSetting:
    @pytest.fixture
    def tickets_settings(self) -> dict[str, Any]:
        return {"attachment_delete_window_minutes": 0}

    async def test_no_window(self, accounts: Accounts, ticket: TicketDetail) -> None:
        attachment = await _uploaded(accounts.alice.client, ticket, ("a.png", PNG, "image/png"))

        response = await accounts.alice.client.delete(_url(ticket, f"/{attachment['id']}"))

        assert response.status_code == 403
        assert response.json()["code"] == "attachment_delete_window_passed"


@pytest.mark.both_stores
class TestNeverHalfStored:
    async def test_client_vanishes_mid_upload(
        self,
        app: FastAPI,
        accounts: Accounts,
        conn: Connection,
        ticket: TicketDetail,
        leftovers: Leftovers,
    ) -> None:
        big = (LOG * (MIB // len(LOG)))[: MIB - 1024]
        body = form_body([FilePart(b"first.log", big), FilePart(b"second.log", big)])
        # All of the first file and half of the second, then the connection drops.
        pieces = chunks_of(body[: len(body) * 3 // 4])

        await _send_raw(
            app,
            _url(ticket),
            {
                "Authorization": accounts.alice.client.headers["Authorization"],
                "Content-Type": CONTENT_TYPE,
            },
            pieces,
            disconnect=True,
        )

        assert await _rows(conn) == 0
        assert await leftovers() == []
        assert "attachment_added" not in await _event_kinds(accounts.alice.client, ticket)

    async def test_body_ends_inside_a_file(
        self, accounts: Accounts, ticket: TicketDetail, leftovers: Leftovers
    ) -> None:
        body = form_body([FilePart(b"a.png", PNG), FilePart(b"b.log", LOG)])

        response = await accounts.alice.client.post(
            _url(ticket), content=body[:-200], headers={"Content-Type": CONTENT_TYPE}
        )

        assert response.status_code == 422
        assert response.json()["code"] == "malformed_multipart"
        assert await leftovers() == []

    async def test_database_failure_after_storing(
        self,
        tolerant: AsyncClient,
        conn: Connection,
        ticket: TicketDetail,
        leftovers: Leftovers,
    ) -> None:
        await conn.execute(
            "create function refuse_attachments() returns trigger language plpgsql as"
            " $$ begin raise exception 'disk full'; end $$"
        )
        await conn.execute(
            "create trigger refuse before insert on attachments"
            " for each row execute function refuse_attachments()"
        )
        try:
            response = await _upload(
                tolerant, ticket, ("a.png", PNG, "image/png"), ("b.pdf", PDF, "application/pdf")
            )
        finally:
            # The database outlives this test: take the failure away again.
            await conn.execute("drop trigger refuse on attachments")
            await conn.execute("drop function refuse_attachments()")

        assert response.status_code == 500
        assert "disk full" not in response.text
        assert await _rows(conn) == 0
        assert await leftovers() == []

    async def test_ticket_removed_while_uploading(
        self,
        app: FastAPI,
        accounts: Accounts,
        conn: Connection,
        ticket: TicketDetail,
        leftovers: Leftovers,
    ) -> None:
        pieces = chunks_of(form_body([FilePart(b"a.log", LOG * 50)]), 4096)

        async def remove_ticket_halfway(index: int) -> None:
            if index == len(pieces) // 2:
                await conn.execute("delete from tickets where id = %s", (ticket.id,))

        status = await _send_raw(
            app,
            _url(ticket),
            {
                "Authorization": accounts.alice.client.headers["Authorization"],
                "Content-Type": CONTENT_TYPE,
            },
            pieces,
            before_piece=remove_ticket_halfway,
        )

        assert status == 404
        assert await _rows(conn) == 0
        assert await leftovers() == []
