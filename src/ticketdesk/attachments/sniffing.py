"""What an uploaded file is, judged from its bytes, and whether its name and type agree.

The client's file name and declared ``Content-Type`` are hints only. The bytes decide
the media type; a hint we recognise must agree with them (an HTML page named
``photo.png`` is refused), and a hint we do not recognise is ignored, since browsers
guess types from the operating system and vary widely. Markup and scripts are refused
whatever they are called: a browser that ignored ``nosniff`` would run them. A name must
end in one of the extensions known for the sniffed type (or have none), since the file is
downloaded under it.
"""

import codecs
import re
import unicodedata
from collections.abc import Collection
from typing import get_args
from urllib.parse import unquote

from ticketdesk.config import AttachmentMediaType
from ticketdesk.errors import UnsupportedMediaType

# How much of a file is read before its type is decided.
SNIFF_BYTES = 1024

RECOGNISED: frozenset[str] = frozenset(get_args(AttachmentMediaType))

_TEXT = "text/plain"
_JSON = "application/json"
# A hint that says "some kind of text" without saying which.
_ANY_TEXT = "text/*"
_MARKUP = "markup"

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    # An empty archive has only its end-of-directory record.
    (b"PK\x05\x06", "application/zip"),
)

# The names each sniffed type may have: a file is served under the name it was sent
# with, so one whose extension an operating system would open as something else (a
# script, a shortcut, a web archive) is refused, whatever its bytes.
_TEXT_NAMES = frozenset(
    (
        *("txt", "text", "log", "out", "err", "csv", "tsv", "md", "markdown", "rst", "har"),
        *("yaml", "yml", "toml", "ini", "cfg", "conf", "diff", "patch", "sql"),
    )
)
_NAMES: dict[str, frozenset[str]] = {
    "image/png": frozenset({"png"}),
    "image/jpeg": frozenset({"jpg", "jpeg", "jpe", "jfif"}),
    "image/gif": frozenset({"gif"}),
    "image/webp": frozenset({"webp"}),
    "application/pdf": frozenset({"pdf"}),
    # Office and OpenDocument files are zip archives.
    "application/zip": frozenset({"zip", "docx", "xlsx", "pptx", "odt", "ods", "odp"}),
    _JSON: _TEXT_NAMES | {"json"},
    _TEXT: _TEXT_NAMES,
}

# What an extension says the bytes should be.
_EXTENSIONS: dict[str, str] = {
    **{
        extension: media_type
        for media_type, extensions in _NAMES.items()
        if media_type not in (_TEXT, _JSON)
        for extension in extensions
    },
    **dict.fromkeys(_TEXT_NAMES, _ANY_TEXT),
    "json": _JSON,
    **dict.fromkeys(
        ("html", "htm", "xhtml", "shtml", "svg", "svgz", "xml", "xsl", "js", "mjs", "hta"),
        _MARKUP,
    ),
}

_DECLARED: dict[str, str] = {
    "image/png": "image/png",
    "image/x-png": "image/png",
    "image/jpeg": "image/jpeg",
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/gif": "image/gif",
    "image/webp": "image/webp",
    "application/pdf": "application/pdf",
    "application/zip": "application/zip",
    "application/x-zip-compressed": "application/zip",
    "application/x-zip": "application/zip",
    "application/json": _JSON,
    "text/json": _JSON,
    **dict.fromkeys(
        (
            "text/html",
            "application/xhtml+xml",
            "image/svg+xml",
            "text/xml",
            "application/xml",
            "text/javascript",
            "application/javascript",
            "application/x-javascript",
            "application/ecmascript",
            "text/ecmascript",
        ),
        _MARKUP,
    ),
}

# Markup a browser would render if it sniffed the file: the start of an HTML, XML or
# SVG document (the WHATWG sniffing list), or these tags anywhere in the first bytes,
# the window older browsers scanned.
_MARKUP_START = re.compile(
    rb"^<(?:!doctype\s+html|html|head|body|script|iframe|h1|div|font|table|a|style|title|b|br|p"
    rb"|!--|\?xml|svg)[\s>/]",
    re.IGNORECASE,
)
_MARKUP_ANYWHERE = re.compile(rb"<(?:script|svg|html|iframe|!doctype\s+html)[\s>/]", re.IGNORECASE)
# Searched for through the whole of a text file, chunk by chunk: every match is at most
# this long, so keeping that many bytes of the previous chunk finds one cut in two.
_MARKUP_IN_TEXT = re.compile(rb"<(?:script|svg|html|iframe|!doctype)[\s>/]", re.IGNORECASE)
_MARKUP_IN_TEXT_LONGEST = len(b"<!doctype ")
_UTF8_BOM = b"\xef\xbb\xbf"
# What Windows drops from the end of a name, and what follows a colon there (an NTFS
# stream, "x.html::$DATA"): the file it saves may end in another extension than shown.
_TRAILING = re.compile(r"[\s.]+$")
# What may not stand in a quoted ``filename=`` (RFC 6266's ASCII fallback).
_UNSAFE_IN_QUOTES = re.compile(r'[^\x20-\x7e]|["\\%]')


def _refused(detail: str, code: str) -> UnsupportedMediaType:
    return UnsupportedMediaType(detail, code=code, field="files")


def _binary_type(head: bytes) -> str | None:
    for magic, media_type in _SIGNATURES:
        if head.startswith(magic):
            return media_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def looks_like_markup(head: bytes) -> bool:
    """Whether a browser could take these first bytes for HTML, SVG or script."""
    text = head.removeprefix(_UTF8_BOM).lstrip()
    return (
        _MARKUP_START.match(text + b" ") is not None
        or _MARKUP_ANYWHERE.search(head) is not None
        # A script with an interpreter line.
        or text.startswith(b"#!")
    )


def _is_text(head: bytes, *, complete: bool) -> bool:
    if b"\x00" in head:
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=complete)
    except UnicodeDecodeError:
        return False
    return True


def ascii_name(filename: str) -> str:
    """The ASCII stand-in a download's ``filename=`` gives clients that ignore ``filename*``:
    accents and other marks dropped, unsafe characters as ``_``."""
    stripped = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    name = _UNSAFE_IN_QUOTES.sub("_", stripped).strip()
    stem, dot, extension = name.rpartition(".")
    if not name or (dot and not stem.strip("._ ")):
        return f"file.{extension}" if dot and extension else "file"
    return name


def _spellings(filename: str) -> set[str]:
    """``filename`` as a browser, a server or an operating system might end up reading it,
    the ASCII stand-in it is downloaded under among them."""
    names = {filename, unicodedata.normalize("NFKC", filename), ascii_name(filename)}
    for name in list(names):
        once = unquote(name)
        names.update((once, unquote(once)))
    for name in list(names):
        names.update((name.split(":", 1)[0], name.replace(":", "_")))
    return {_TRAILING.sub("", name) for name in names} | names


def extensions_of(filename: str) -> set[str]:
    """Every extension ``filename`` could be taken to have, lower-cased: ``x.HTML.``,
    ``x.html%20`` and ``x.html::$DATA`` all have ``html``."""
    found = set()
    for name in _spellings(filename):
        _, dot, extension = name.rpartition(".")
        if dot:
            found.add(extension.lower())
    return found


def _hints(filename: str, declared: str | None) -> list[str]:
    hints = [_EXTENSIONS[ext] for ext in sorted(extensions_of(filename)) if ext in _EXTENSIONS]
    if declared:
        declared = declared.lower()
        if declared in _DECLARED:
            hints.append(_DECLARED[declared])
        elif declared.startswith("text/"):
            hints.append(_ANY_TEXT)
    return hints


def media_type_of(
    head: bytes,
    *,
    filename: str,
    declared: str | None,
    allowed: Collection[str],
    complete: bool,
) -> str:
    """The media type of a file starting with ``head``, or a 415 explaining the refusal.

    ``complete`` says ``head`` is the whole file, so a multi-byte character cut at its
    end is not mistaken for broken text.
    """
    hints = _hints(filename, declared)
    if _MARKUP in hints or looks_like_markup(head):
        raise _refused(
            "HTML, SVG, XML and script files are not accepted.", "attachment_type_refused"
        )
    media_type = _binary_type(head)
    if media_type is None and _is_text(head, complete=complete):
        stripped = head.removeprefix(_UTF8_BOM).lstrip()
        wants_json = _JSON in hints
        media_type = _JSON if wants_json and stripped[:1] in (b"{", b"[") else _TEXT
    if media_type is None:
        raise _refused(
            f"This kind of file is not accepted. Accepted: {', '.join(sorted(allowed))}.",
            "attachment_type_not_allowed",
        )
    for hint in hints:
        agrees = hint == media_type or (hint == _ANY_TEXT and media_type in (_TEXT, _JSON))
        if not agrees:
            raise _refused(
                f"The file's content ({media_type}) does not match its name or declared type.",
                "attachment_type_mismatch",
            )
    names = _NAMES[media_type]
    unexpected = sorted(extensions_of(filename) - names - {""})
    if unexpected:
        raise _refused(
            f"A {media_type} file may not be named .{unexpected[0]}; name it "
            f"{', '.join('.' + name for name in sorted(names))} (or zip it).",
            "attachment_name_not_allowed",
        )
    if media_type not in allowed:
        raise _refused(
            f"{media_type} files are not accepted. Accepted: {', '.join(sorted(allowed))}.",
            "attachment_type_not_allowed",
        )
    return media_type


class TextCheck:
    """Checks, chunk by chunk, that a file sniffed as text stays UTF-8 without NULs, and
    that no markup a browser would sniff hides past its first bytes.

    Each chunk costs one pass over it and a few bytes of the one before, however large
    the file.
    """

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._tail = b""

    def feed(self, chunk: bytes, *, final: bool = False) -> None:
        """Check the next chunk; ``final`` for the end of the file."""
        if b"\x00" in chunk:
            raise _refused("The file looked like text but contains binary data.", "not_text")
        window = self._tail + chunk
        if _MARKUP_IN_TEXT.search(window):
            raise _refused(
                "HTML, SVG, XML and script files are not accepted, nor text with such markup "
                "in it.",
                "attachment_type_refused",
            )
        self._tail = window[-(_MARKUP_IN_TEXT_LONGEST - 1) :]
        try:
            self._decoder.decode(chunk, final=final)
        except UnicodeDecodeError:
            raise _refused(
                "The file looked like text but is not valid UTF-8.", "not_text"
            ) from None
