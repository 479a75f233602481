"""Errors and skip-and-count bookkeeping shared by the dataset readers.

Readers meet two kinds of bad input:

* problems that make the whole input unusable (missing file, wrong header, ...): they raise
  :class:`DataError` at once;
* problems confined to one row / frame / sequence (a malformed row, a frame with nobody in it):
  they are skipped and counted by a :class:`SkipCounter`, which prints one summary at the end
  instead of one line per row. With ``strict=True`` the first such skip raises instead.
"""

from __future__ import annotations

import os
from collections import Counter


class DataError(ValueError):
    """Bad input data. The message names the file and, where it applies, the line or frame."""


class MissingReleaseError(FileNotFoundError):
    """A licence-gated dataset is not where it should be; the message says where to apply and where to put it."""


def where(path: str | os.PathLike, line: int | None = None, detail: str | None = None) -> str:
    """Format a location as ``path:line`` or ``path (detail)`` for messages."""
    text = str(path)
    if line is not None:
        text += f":{line}"
    if detail:
        text += f" ({detail})"
    return text


class SkipCounter:
    """Count skipped rows/frames per reason; in strict mode, a skip is a :class:`DataError`.

    ``skip(reason, where)`` records one skip. ``reason`` is a short stable phrase ("wrong number of
    values") used as the key of the counts; ``where`` names the file and line/frame. The first
    few locations per reason are kept as examples for the summary.
    """

    def __init__(self, strict: bool = False, examples: int = 3):
        self.strict = strict
        self.counts: Counter[str] = Counter()
        # counted but not errors, even in strict mode: repairs that lose nothing (rows sorted back into
        # order) and facts of the published data (frames where the detector found nobody)
        self.fixed: Counter[str] = Counter()
        self.examples: dict[str, list[str]] = {}
        self._max_examples = examples

    def skip(self, reason: str, where: str, n: int = 1) -> None:
        """Record ``n`` skips of one kind at ``where`` (raises :class:`DataError` if strict)."""
        if n <= 0:
            return
        if self.strict:
            raise DataError(f"{where}: {reason} (strict mode: no rows are skipped)")
        self.counts[reason] += n
        ex = self.examples.setdefault(reason, [])
        if len(ex) < self._max_examples:
            ex.append(where)

    def add(self, reason: str, n: int, examples: list[str] = ()) -> None:
        """Record ``n`` skips found in bulk (vectorised checks), with a few example locations."""
        if n <= 0:
            return
        self.skip(reason, examples[0] if examples else "(several places)", n)
        ex = self.examples[reason]
        for e in list(examples)[1:]:
            if len(ex) >= self._max_examples:
                break
            ex.append(e)

    def fix(self, reason: str, n: int = 1) -> None:
        """Count a repair or a fact that loses no data (not an error even in strict mode)."""
        if n > 0:
            self.fixed[reason] += n

    def __bool__(self) -> bool:
        return bool(self.counts)

    def summary(self) -> dict[str, int]:
        """Counts per reason, skips and repairs together (for ``meta.json``'s ``stats``)."""
        return dict(sorted((self.counts + self.fixed).items()))

    def text(self, what: str = "rows") -> str:
        """One human-readable paragraph: how many of what were skipped and why, with examples."""
        fixes = ""
        if self.fixed:
            fixes = " Counted (not errors): " + ", ".join(f"{n} {reason}" for reason, n in sorted(self.fixed.items())) + "."
        if not self.counts:
            return f"No {what} skipped." + fixes
        total = sum(self.counts.values())
        parts = []
        for reason, n in sorted(self.counts.items(), key=lambda kv: -kv[1]):
            ex = "; ".join(self.examples.get(reason, []))
            parts.append(f"{n} {reason} (e.g. {ex})" if ex else f"{n} {reason}")
        return f"Skipped {total} {what}: " + ", ".join(parts) + "." + fixes + " Use --strict to make skips errors."
