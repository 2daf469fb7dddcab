"""Managing endpoints: the secret shown once, updates, deletes, and targets refused."""

from typing import Any

import pytest

from tests.factories import Accounts
from tests.webhooks.receiver import Receiver
from tests.webhooks.support import create_webhook


class TestSecret:
    async def test_shown_on_create_and_rotate_only(
        self, accounts: Accounts, receiver: Receiver
    ) -> None:
        created = await create_webhook(accounts.admin, receiver.url)
        assert created["secret"].startswith("whsec_")
        path = f"/api/v1/webhooks/{created['id']}"

        fetched = (await accounts.admin.client.get(path)).json()
        listed = (await accounts.admin.client.get("/api/v1/webhooks")).json()["items"]
        updated = (await accounts.admin.client.patch(path, json={"name": "Renamed"})).json()
        for shown in (fetched, *listed, updated):
            assert "secret" not in shown
            assert created["secret"] not in str(shown)

        rotated = await accounts.admin.client.post(f"{path}/rotate-secret")
        assert rotated.status_code == 200
        assert rotated.json()["secret"].startswith("whsec_")
        assert rotated.json()["secret"] != created["secret"]
        assert "secret" not in (await accounts.admin.client.get(path)).json()


class TestManage:
    async def test_update_and_delete(self, accounts: Accounts, receiver: Receiver) -> None:
        created = await create_webhook(accounts.admin, receiver.url, events=["ticket.created"])
        path = f"/api/v1/webhooks/{created['id']}"
        response = await accounts.admin.client.patch(
            path, json={"events": ["ticket.closed", "ticket.resolved"], "format": "slack"}
        )
        assert response.status_code == 200, response.text
        assert response.json()["events"] == ["ticket.closed", "ticket.resolved"]
        assert response.json()["format"] == "slack"
        assert response.json()["name"] == "Receiver"

        assert (await accounts.admin.client.delete(path)).status_code == 204
        assert (await accounts.admin.client.get(path)).status_code == 404

    async def test_unknown_event(self, accounts: Accounts, receiver: Receiver) -> None:
        response = await accounts.admin.client.post(
            "/api/v1/webhooks",
            json={"name": "X", "url": receiver.url, "events": ["ticket.exploded"]},
        )
        assert response.status_code == 422

    async def test_agents_may_not(self, accounts: Accounts, receiver: Receiver) -> None:
        response = await accounts.agent.client.get("/api/v1/webhooks")
        assert response.status_code == 403


class TestTargetsRefused:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        """Private targets refused, as in production."""
        return {}

    @pytest.mark.parametrize(
        "url",
        [
            "http://127.0.0.1:8080/hook",
            "http://localhost/hook",
            "http://[::1]/hook",
            "http://[::ffff:127.0.0.1]/hook",
            "http://10.1.2.3/hook",
            "http://192.168.0.10/hook",
            "http://172.16.5.4/hook",
            "http://100.64.0.7/hook",
            "http://169.254.169.254/latest/meta-data",
            "http://[fd00:ec2::254]/latest",
            "http://[fe80::1]/hook",
            "http://224.0.0.251/hook",
            "http://0.0.0.0/hook",
            "http://168.63.129.16/hook",
            "http://[fec0::1]/hook",
            "http://[ff0e::1]/hook",
            "http://[2002:7f00:1::]/hook",
            "http://[2002:a9fe:a9fe::]/hook",
            "http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/hook",
            "http://[64:ff9b::7f00:1]/hook",
            "http://93.184.215.14:0/hook",
            "ftp://example.com/hook",
            "http://user:pw@example.com/hook",
        ],
    )
    async def test_refused_at_save(self, accounts: Accounts, url: str) -> None:
        response = await accounts.admin.client.post(
            "/api/v1/webhooks", json={"name": "X", "url": url, "events": ["ticket.created"]}
        )
        assert response.status_code == 422, response.text
        assert response.json()["field"] == "url"

    async def test_a_unicode_host_is_checked_in_its_idna_form(self, accounts: Accounts) -> None:
        for host, detail in [
            ("bücher.invalid", "names a host that does not resolve (xn--bcher-kva.invalid)"),
            ("ü" * 64 + ".example", "has an invalid host name"),
        ]:
            response = await accounts.admin.client.post(
                "/api/v1/webhooks",
                json={"name": "X", "url": f"http://{host}/hook", "events": ["ticket.created"]},
            )
            assert response.status_code == 422, response.text
            assert response.json()["detail"] == f"The URL {detail}."

    async def test_refused_on_update(self, accounts: Accounts) -> None:
        created = await accounts.admin.client.post(
            "/api/v1/webhooks",
            json={"name": "X", "url": "http://93.184.215.14/hook", "events": ["ticket.created"]},
        )
        assert created.status_code == 201, created.text
        response = await accounts.admin.client.patch(
            f"/api/v1/webhooks/{created.json()['id']}", json={"url": "http://127.0.0.1/x"}
        )
        assert response.status_code == 422
        assert response.json()["field"] == "url"
