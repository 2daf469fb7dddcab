"""The attachment settings, as an operator sets them."""

import pytest

from ticketdesk.config import ConfigError, load_settings


def test_allow_list_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TICKETS_ALLOWED_ATTACHMENT_TYPES", "image/png, application/pdf")
    monkeypatch.setenv("TICKETS_ATTACHMENT_DELETE_WINDOW_MINUTES", "60")

    tickets = load_settings().tickets

    assert tickets.allowed_attachment_types == ["image/png", "application/pdf"]
    assert tickets.attachment_delete_window_minutes == 60


def test_unknown_type_names_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TICKETS_ALLOWED_ATTACHMENT_TYPES", "image/png,text/html")

    with pytest.raises(ConfigError) as caught:
        load_settings()

    assert "tickets.allowed_attachment_types" in str(caught.value)


def test_defaults() -> None:
    tickets = load_settings().tickets

    assert set(tickets.allowed_attachment_types) == {
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "application/pdf",
        "application/zip",
        "application/json",
        "text/plain",
    }
    assert tickets.attachment_delete_window_minutes == 15
