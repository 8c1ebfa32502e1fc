"""One escaping function per output surface, for text that comes from a file or a server.

Record data, file names, custom keys and the API's own messages are untrusted: reconciler runs
on pull requests from strangers. Every renderer passes such text through the function for its
surface, and nothing else in the code base escapes:

- `terminal`: one line of inert text for a terminal or a CI log. Control characters (C0, DEL,
  C1), line and paragraph separators and bidirectional overrides are shown as `\\xNN` /
  `\\uNNNN`, so no ESC, BEL or NUL sequence and no line break reaches the screen; and nothing can
  be read as a GitHub workflow command (`::command::` at the start of a line, the legacy `##[`
  anywhere in one).
- `terminal_block`: the same guard for several lines of reconciler's own text that embeds
  untrusted pieces (an error and its hint): line breaks are kept, every line is defused.
- `workflow_data` / `workflow_property`: the escaping of GitHub's `::error ...::message` syntax.
- `markdown`: inert inline text for a pull-request comment, an issue or a job summary: HTML is
  escaped, and so is every character that starts Markdown syntax (links, images, emphasis, code,
  table cells, math; the `:` of `https://` and the `.` of `www.` that GitHub would autolink);
  `@` and `#` are followed by a zero-width space, so that GitHub turns no `@mention` and no
  `#123` reference into a notification.
- `json_text`: JSON output stays valid JSON holding the same data, with the characters above
  escaped as `\\uNNNN`.

Pure functions of strings. A leaf module (it imports nothing from reconciler), outside `render/`
because the client (server messages) and `validate` (problem lines) need it as much as the views:
the layer contract lets every layer import it.
"""

from __future__ import annotations

import re

# C0 (tab and newline included: a piece of data shown on one line must not break it), DEL, C1,
# U+2028/U+2029 (line breaks to some readers) and the bidirectional controls ("Trojan Source").
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_IN_BLOCK = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
_LEGACY_COMMAND = "##["
_LEGACY_SAFE = "##\\x5b"
_ZWSP = "&#8203;"


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _defuse_line(line: str) -> str:
    """A line no GitHub runner reads as a workflow command."""
    line = line.replace(_LEGACY_COMMAND, _LEGACY_SAFE)
    stripped = line.lstrip()
    if stripped.startswith("::"):
        indent = len(line) - len(stripped)
        line = line[:indent] + "\\x3a" + stripped[1:]
    return line


def terminal(text: str) -> str:
    """One line of untrusted text, safe on a terminal and in a GitHub Actions log."""
    return _defuse_line(_UNSAFE.sub(_visible, text))


def terminal_block(text: str) -> str:
    """Several lines that embed untrusted text: line breaks kept, every line made safe."""
    text = _UNSAFE_IN_BLOCK.sub(_visible, text.replace("\r\n", "\n"))
    return "\n".join(_defuse_line(line) for line in text.split("\n"))


def workflow_data(text: str) -> str:
    """A workflow command's message: `%`, CR and LF escaped as the runner expects."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def workflow_property(text: str) -> str:
    """A workflow command's property value: as the message, and also `:` and `,`."""
    return workflow_data(text).replace(":", "%3A").replace(",", "%2C")


_MARKDOWN_SPECIAL = re.compile(r"""[&<>"'|\\`*_\[\]()!~$@#]""")
_MARKDOWN_REFERENCES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "'": "&#x27;",
    "@": "&#64;" + _ZWSP,  # no @mention: GitHub reads mentions after decoding references
    "#": "&#35;" + _ZWSP,  # no #123 issue reference
}
_AUTOLINK = re.compile(r"(?i)(?<=www)\.|:(?=//)")


def _reference(match: re.Match[str]) -> str:
    char = match.group(0)
    if char in "@#":
        # GitHub links `@name` and `#123` only after a non-word character; an e-mail address
        # (`maria@example.org`) keeps no invisible character, its `@` as a reference is enough.
        start = match.start()
        before = match.string[start - 1 : start]
        if before and (before.isalnum() or before == "_"):
            return f"&#{ord(char)};"
    return _MARKDOWN_REFERENCES.get(char) or f"&#{ord(char)};"


def markdown(text: str) -> str:
    """Untrusted text as inert inline Markdown (table cells and HTML blocks included)."""
    text = _UNSAFE.sub(lambda m: " " if m.group(0) in "\n\r\t" else _visible(m), text)
    text = _MARKDOWN_SPECIAL.sub(_reference, text)
    return _AUTOLINK.sub(lambda m: f"&#{ord(m.group(0))};", text)


_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def json_text(text: str) -> str:
    """A JSON document (from `json.dumps`) with the characters a terminal or a runner would act
    on escaped; it still parses to the same data.

    `json.dumps` already escapes C0 controls. The characters handled here and `##[` can only
    occur inside JSON strings, where `\\uNNNN` means the same character.
    """
    text = _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)
    return text.replace(_LEGACY_COMMAND, "##\\u005b")
