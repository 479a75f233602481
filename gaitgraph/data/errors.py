"""Errors and skip-and-count bookkeeping shared by the dataset readers.

Readers meet two kinds of bad input:

* problems that make the whole input unusable (missing file, wrong header, ...): they raise
  :class:`DataError` at once;
* problems confined to one row / frame / sequence (a malformed row, a frame with nobody in it):
  they are skipped and counted by a :class:`SkipCounter`, which prints one summary at the end
  instead of one line per row. With ``strict=True`` the first such skip raises instead.
* values that can be repaired in place (a confidence outside [0, 1] is clipped into it,
  :func:`clip_confidences`): counted as repairs, and likewise an error with ``strict=True``.
"""

from __future__ import annotations

import os
from collections import Counter

import numpy as np

CONFIDENCE_CLIPPED = "confidences outside [0, 1] (clipped)"


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


def decode_reason(e: ValueError) -> str:
    """The short reason of a JSON or text decoding error, for one-line messages."""
    if isinstance(e, UnicodeDecodeError):
        return f"byte 0x{e.object[e.start]:02x} at offset {e.start} is not {e.encoding}"
    return str(e)


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
        # repaired in place (values clipped into range): counted, and errors in strict mode
        self.repaired: Counter[str] = Counter()
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

    def repair(self, reason: str, n: int, examples: list[str] = ()) -> None:
        """Record ``n`` values repaired in place (raises :class:`DataError` naming the first place if strict)."""
        if n <= 0:
            return
        if self.strict:
            at = examples[0] if examples else "(several places)"
            raise DataError(f"{at}: {reason.split(' (')[0]} (strict mode: nothing is repaired)")
        self.repaired[reason] += n
        ex = self.examples.setdefault(reason, [])
        ex.extend(list(examples)[: max(0, self._max_examples - len(ex))])

    def fix(self, reason: str, n: int = 1) -> None:
        """Count a repair or a fact that loses no data (not an error even in strict mode)."""
        if n > 0:
            self.fixed[reason] += n

    def __bool__(self) -> bool:
        """Whether anything was skipped or repaired (worth a summary line)."""
        return bool(self.counts or self.repaired)

    def summary(self) -> dict[str, int]:
        """Counts per reason, skips and repairs together (for ``meta.json``'s ``stats``)."""
        return dict(sorted((self.counts + self.fixed + self.repaired).items()))

    def text(self, what: str = "rows") -> str:
        """One human-readable paragraph: how many of what were skipped and why, with examples."""
        fixes = ""
        if self.repaired:
            fixes += " Repaired: " + ", ".join(
                f"{n} {reason} (e.g. {'; '.join(self.examples.get(reason, []))})" for reason, n in sorted(self.repaired.items())
            ) + "."
        if self.fixed:
            fixes += " Counted (not errors): " + ", ".join(f"{n} {reason}" for reason, n in sorted(self.fixed.items())) + "."
        if not self.counts:
            return f"No {what} skipped." + fixes + (" Use --strict to make repairs errors." if self.repaired else "")
        total = sum(self.counts.values())
        parts = []
        for reason, n in sorted(self.counts.items(), key=lambda kv: -kv[1]):
            ex = "; ".join(self.examples.get(reason, []))
            parts.append(f"{n} {reason} (e.g. {ex})" if ex else f"{n} {reason}")
        return f"Skipped {total} {what}: " + ", ".join(parts) + "." + fixes + " Use --strict to make skips errors."


def clip_confidences(poses: np.ndarray) -> np.ndarray:
    """Clip the confidences ``poses[..., 2]`` into [0, 1] in place; return the number of values clipped
    per row (shape ``poses.shape[:-2]``). Non-finite values are left alone (their rows are skipped)."""
    conf = poses[..., 2]
    out = (conf < 0) | (conf > 1)
    if out.any():
        np.clip(conf, 0, 1, out=conf, where=out)
    return out.sum(axis=-1)
