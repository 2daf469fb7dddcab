"""Creating exports through the API and waiting for their jobs, for the tests to build on."""

import asyncio
import csv
import io
import json
from typing import Any

from httpx import AsyncClient

EXPORTS = "/api/v1/exports"


async def create(client: AsyncClient, **body: Any) -> dict[str, Any]:
    """A new export, asked for through the API."""
    response = await client.post(EXPORTS, json={"format": "csv", **body})
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


async def finished(client: AsyncClient, export_id: str) -> dict[str, Any]:
    """The export once its job has ended (done or failed), within 30 s."""
    async with asyncio.timeout(30):
        while True:
            response = await client.get(f"{EXPORTS}/{export_id}")
            assert response.status_code == 200, response.text
            found: dict[str, Any] = response.json()
            if found["status"] in ("done", "failed"):
                return found
            await asyncio.sleep(0.05)


async def downloaded(client: AsyncClient, export_id: str) -> str:
    """A finished export's file, as text."""
    response = await client.get(f"{EXPORTS}/{export_id}/download")
    assert response.status_code == 200, response.text
    return response.text


def csv_rows(text: str) -> list[dict[str, str]]:
    """The rows of an exported CSV, by column."""
    return list(csv.DictReader(io.StringIO(text, newline="")))


def json_lines(text: str) -> list[dict[str, Any]]:
    """The objects of an exported JSON Lines file."""
    return [json.loads(line) for line in text.splitlines()]
