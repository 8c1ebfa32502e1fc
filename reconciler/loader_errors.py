"""How libyaml's errors read to a person: a message that says what to do, and a 1-based position.

Split from `reconciler.loader` along the fast/slow seam: nothing here runs unless a file fails to
parse. libyaml's own wording is kept where it is clear and replaced where a common mistake (a tab,
a second document, an unquoted ': ') deserves a plainer one. Pure: bytes and exceptions in,
(message, line, column) out.
"""

from __future__ import annotations

import codecs
import re

import yaml

_SYNTAX_HINTS: dict[str, str] = {
    "expected a single document in the stream": (
        "a file holds exactly one opportunity, but this one has a second YAML document (---)"
    ),
    "mapping values are not allowed in this context": (
        "invalid YAML: ': ' where no key can start; check the indentation, "
        "or quote a value that contains ': '"
    ),
}

_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def syntax_problem(e: yaml.MarkedYAMLError, raw: bytes) -> tuple[str, int, int]:
    """The message, line and column for a scanner, parser or composer error."""
    mark = e.problem_mark or e.context_mark
    line, col = _in_file(raw, *((mark.line + 1, mark.column + 1) if mark else (1, 1)))
    for key in (e.context, e.problem):
        if key in _SYNTAX_HINTS:
            return _SYNTAX_HINTS[key], line, col
    if mark and _char_at(raw, mark.line, mark.column) == "\t":
        return "invalid YAML: a tab character; YAML indents with spaces only", line, col
    problem = f"invalid YAML: {e.problem}"
    if e.context and e.context_mark:
        problem += f" ({e.context} on line {e.context_mark.line + 1})"
    elif e.context:
        problem += f" ({e.context})"
    return problem, line, col


def _in_file(raw: bytes, line: int, col: int) -> tuple[int, int]:
    """A position inside the file: in a file without a final line break, libyaml puts "end of
    file" on a line that does not exist; the end of the last line it is."""
    lines = _LINE_BREAK.split(raw.decode("utf-8-sig", "replace"))
    if line <= len(lines):
        return line, col
    return len(lines), len(lines[-1]) + 1


def reader_problem(e: yaml.reader.ReaderError, raw: bytes) -> tuple[str, int, int]:
    """The message, line and column for bad bytes: invalid UTF-8 or a control character."""
    # libyaml reports a byte offset; turn it into a line and a column in characters. For bad
    # UTF-8 it may point at the byte after the one that started the broken sequence, so ask
    # Python's decoder where the sequence starts.
    offset = int(e.position)
    is_utf8 = "utf-8" in str(e.reason).lower()
    if is_utf8:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as bad:
            offset = bad.start
    start = raw.rfind(b"\n", 0, offset) + 1
    line = raw.count(b"\n", 0, offset) + 1
    prefix = raw[start:offset]
    if start == 0 and prefix.startswith(codecs.BOM_UTF8):
        prefix = prefix[len(codecs.BOM_UTF8) :]
    col = len(prefix.decode("utf-8", "replace")) + 1
    if is_utf8:
        byte = f" (byte 0x{raw[offset]:02X})" if offset < len(raw) else ""
        return f"the file is not valid UTF-8{byte}; save it as UTF-8", line, col
    character = e.character
    shown = f"U+{character:04X}" if isinstance(character, int) else repr(character)
    return f"{e.reason} ({shown}); remove that character", line, col


def _char_at(raw: bytes, line: int, column: int) -> str:
    lines = _LINE_BREAK.split(raw.decode("utf-8-sig", "replace"))
    text = lines[line] if line < len(lines) else ""
    return text[column] if column < len(text) else ""
