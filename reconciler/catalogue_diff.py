"""What changed between two catalogues: added, removed, renamed and changed properties.

Pure code, for `catalogue pull --check` (the file in git against the live catalogue), for `pull`
(what it just rewrote) and for `plan` (the file is out of date). Properties are matched by
keyName. A keyName that disappears while another appears is reported as a rename, not as a
removal and an addition, when exactly one of the new keys:
1. has the same label (`name`, compared case-insensitively), or else
2. has the same type and the same non-empty set of options.
Ambiguous candidates (two new keys with the same label) are left as removal + addition: a wrong
rename would mislead more than none. A property kept under its keyName may change its label, its
type, whether it takes several values, or its options; the trades dropdown may change its
options. Renderers for text and Markdown (values HTML-escaped in Markdown) live here too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reconciler.catalogue import Catalogue, Property, field_of
from reconciler.catalogue_file import sorted_options
from reconciler.escape import markdown as esc


@dataclass(frozen=True, slots=True)
class Renamed:
    old: str
    new: str
    because: str  # "same label 'Roof Type'" or "same type and options"


@dataclass(frozen=True, slots=True)
class Changed:
    """One kept property (or `trades`) and what differs: each item is a line for a person."""

    key: str
    what: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CatalogueDiff:
    added: tuple[Property, ...] = ()
    removed: tuple[Property, ...] = ()
    renamed: tuple[Renamed, ...] = ()
    changed: tuple[Changed, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.renamed or self.changed)

    def counts(self) -> str:
        parts = [
            (len(self.added), "added"),
            (len(self.removed), "removed"),
            (len(self.renamed), "renamed"),
            (len(self.changed), "changed"),
        ]
        return ", ".join(f"{n} {label}" for n, label in parts if n) or "no change"


def _quoted(options: list[str]) -> str:
    return ", ".join(repr(o) for o in options)


def _option_changes(old: frozenset[str], new: frozenset[str]) -> list[str]:
    out = []
    if added := sorted_options(new - old):
        out.append(f"options added: {_quoted(added)}")
    if removed := sorted_options(old - new):
        out.append(f"options removed: {_quoted(removed)}")
    return out


def _property_changes(old: Property, new: Property) -> list[str]:
    out = []
    if old.name != new.name:
        out.append(f"label {old.name!r} -> {new.name!r}")
    if old.type != new.type:
        out.append(f"type {old.type} -> {new.type}")
    if old.multiple != new.multiple:
        out.append("now takes several values" if new.multiple else "now takes one value")
    return out + _option_changes(old.options, new.options)


def _pair_renames(
    removed: dict[str, Property], added: dict[str, Property]
) -> list[tuple[str, str, str]]:
    pairs: list[tuple[str, str, str]] = []
    rules = (
        (lambda p: p.name.casefold() if p.name else None, "same label {label!r}"),
        (lambda p: (p.type, p.options) if p.options else None, "same type and options"),
    )
    for signature, because in rules:
        by_sig: dict[object, list[str]] = {}
        for key, prop in added.items():
            if (sig := signature(prop)) is not None:
                by_sig.setdefault(sig, []).append(key)
        old_by_sig: dict[object, list[str]] = {}
        for key, prop in removed.items():
            if (sig := signature(prop)) is not None:
                old_by_sig.setdefault(sig, []).append(key)
        for sig, old_keys in sorted(old_by_sig.items(), key=lambda kv: kv[1]):
            new_keys = by_sig.get(sig, [])
            if len(old_keys) == 1 and len(new_keys) == 1:
                old_key, new_key = old_keys[0], new_keys[0]
                label = removed[old_key].name
                pairs.append((old_key, new_key, because.format(label=label)))
                del removed[old_key], added[new_key]
    return sorted(pairs)


def compare(old: Catalogue, new: Catalogue) -> CatalogueDiff:
    """How `new` (usually live) differs from `old` (usually the file)."""
    removed = {k: p for k, p in old.custom.items() if k not in new.custom}
    added = {k: p for k, p in new.custom.items() if k not in old.custom}
    renames = _pair_renames(removed, added)
    changed: list[Changed] = []
    for old_key, new_key, _ in renames:
        if what := _property_changes(old.custom[old_key], new.custom[new_key]):
            changed.append(Changed(new_key, tuple(what)))
    for key in sorted(set(old.custom) & set(new.custom)):
        if what := _property_changes(old.custom[key], new.custom[key]):
            changed.append(Changed(key, tuple(what)))
    old_trades = old.trades.options if old.trades else None
    new_trades = new.trades.options if new.trades else None
    if old_trades != new_trades:
        if old_trades is None or new_trades is None:
            what = ["the trades property " + ("appeared" if old_trades is None else "is gone")]
        else:
            what = _option_changes(old_trades, new_trades)
        changed.append(Changed("trades", tuple(what)))
    return CatalogueDiff(
        added=tuple(added[k] for k in sorted(added)),
        removed=tuple(removed[k] for k in sorted(removed)),
        renamed=tuple(Renamed(*r) for r in renames),
        changed=tuple(sorted(changed, key=lambda c: (c.key != "trades", c.key))),
    )


def _describe(prop: Property) -> str:
    many = ", several values" if prop.multiple else ""
    label = f" {prop.name!r}" if prop.name else ""
    return f"{prop.type or 'no type'}{many}{label}"


def diff_lines(diff: CatalogueDiff) -> list[str]:
    """One line per difference: `+` added, `-` removed, `~` renamed or changed."""
    lines = [f"  + {field_of(p.key)} ({_describe(p)})" for p in diff.added]
    lines += [f"  - {field_of(p.key)} ({_describe(p)})" for p in diff.removed]
    lines += [
        f"  ~ {field_of(r.old)} renamed to {field_of(r.new)} ({r.because})" for r in diff.renamed
    ]
    lines += [f"  ~ {field_of(c.key)}: {'; '.join(c.what)}" for c in diff.changed]
    return lines


def used_keys_note(diff: CatalogueDiff, usage: Mapping[str, list[str]]) -> list[str]:
    """Which files use a removed or renamed key (`usage`: key -> files), for the reader to fix."""
    lines = []
    gone = [p.key for p in diff.removed] + [r.old for r in diff.renamed]
    for key in gone:
        files = usage.get(key, [])
        if files:
            shown = ", ".join(files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")
            lines.append(f"  {field_of(key)} is still used by {shown}")
    return lines


def render_markdown(diff: CatalogueDiff, source: str, notes: Sequence[str] = ()) -> str:
    """The catalogue section of the drift issue; `notes` are extra paragraphs (plain text).

    Every piece of text is escaped for Markdown (names and options come from the server), so no
    code spans: an entity inside one would show as typed."""
    lines = ["## Catalogue drift", ""]
    if diff:
        lines += [
            f"The live property catalogue differs from {esc(source)} ({diff.counts()}):",
            "",
        ]
    for line in diff_lines(diff):
        lines.append(f"- {esc(line.strip())}")
    for note in notes:
        lines += ["", esc(note)]
    lines += [
        "",
        "Run `reconciler catalogue pull`, review and commit the files it rewrites, and fix the "
        "opportunity files that use a removed or renamed key.",
        "",
    ]
    return "\n".join(lines)
