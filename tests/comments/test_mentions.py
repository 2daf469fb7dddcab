"""Which words of a note are mentions: ``@`` starting a word, then a handle or an address."""

import pytest

from ticketdesk.comments.mentions import MAX_MENTIONS, handles_in


@pytest.mark.parametrize(
    ("text", "handles"),
    [
        ("@alice please look", ["alice"]),
        ("Thanks @Alice.", ["alice"]),
        ("cc @bob, @carol and @bob again", ["bob", "carol"]),
        ("(@dave) and @eve:", ["dave", "eve"]),
        ("ask @alice@example.com, not @alice", ["alice@example.com", "alice"]),
        ("@first.last-name_1 agreed", ["first.last-name_1"]),
        # Addresses, handles inside words and paths are not mentions.
        ("mail frank@example.com about it", []),
        ("see https://example.com/@grace/posts", []),
        ("an @ alone, or @. or @-", []),
    ],
)
def test_handles_in(text: str, handles: list[str]) -> None:
    assert handles_in(text) == handles


def test_at_most_a_few_handles_are_taken() -> None:
    text = " ".join(f"@agent{n}" for n in range(MAX_MENTIONS + 5))

    assert len(handles_in(text)) == MAX_MENTIONS
