"""The error boundary of every command line: one line on stderr and exit 2 instead of a traceback.

Every ``main()`` of the package (``gaitgraph``, ``gaitgraph-data``,
``python -m gaitgraph.paper.*``, ``workflow_scripts/*``) runs its body through :func:`guarded`::

    def main(argv=None) -> int:
        return guarded("gaitgraph-data", _main, argv, subcommands=SUBCOMMANDS)

A failure prints ``PROG: error: WHAT`` (the exception's message: file and place, what to do) and
returns 2. Exceptions of gaitgraph's own classes, ``ValueError``s raised by gaitgraph's code and
``OSError``s (missing file, permission, full disk) are the user's input; any other exception gets its
type named and a hint to ``--debug`` (exit 2 as well: from outside, a bug and a case of bad input that
we did not foresee look the same).
Chained exceptions (jsonargparse wraps what a class raises) are reported by the outermost of
gaitgraph's own or ``OSError`` along the ``raise ... from`` chain, so the message is the one we wrote. ``--debug`` anywhere on the
command line (it is taken out before parsing) or ``GAITGRAPH_DEBUG=1`` re-raises instead, with the
full traceback. A closed stdout (``gaitgraph-data info DIR | head``) ends quietly with status 0;
Ctrl-C ends with status 130. Usage errors of argparse/jsonargparse keep their ``usage: ...`` form.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence

DEBUG_FLAG = "--debug"
DEBUG_ENV = "GAITGRAPH_DEBUG"


def split_debug(argv: Sequence[str] | None) -> tuple[list[str] | None, bool]:
    """``argv`` without ``--debug``, and whether a traceback was asked for (flag or environment)."""
    env = os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no")
    if argv is None:
        return None, env
    argv = list(argv)
    if DEBUG_FLAG in argv:
        os.environ[DEBUG_ENV] = "1"  # nested commands (gaitgraph evaluate, ...) and child processes too
    return [a for a in argv if a != DEBUG_FLAG], env or DEBUG_FLAG in argv


_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _ours(e: BaseException) -> bool:
    """A user's mistake: our exception classes ("__main__": a module run as ``python -m gaitgraph.x``),
    an ``OSError``, or a ``ValueError`` that gaitgraph's own code raised (its message is ours)."""
    if type(e).__module__.split(".")[0] in ("gaitgraph", "__main__") or isinstance(e, OSError):
        return True
    tb = e.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    raised_here = tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename).startswith(_PACKAGE + os.sep)
    return isinstance(e, ValueError) and raised_here


def _reported(e: BaseException) -> BaseException:
    """The exception whose message to show: along the explicit ``raise ... from`` chain, the outermost
    of ours (a library's wrapper around our message is skipped), else ``e`` itself."""
    chain, seen = [], set()
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        chain.append(e)
        e = e.__cause__
    mine = [c for c in chain if _ours(c)]
    return mine[0] if mine else chain[0]


def message(e: BaseException) -> str:
    """One line for ``e`` (newlines joined, OSError as ``file: reason``)."""
    e = _reported(e)
    if isinstance(e, OSError) and e.strerror and type(e).__module__ == "builtins":
        names = [str(n) for n in (e.filename, e.filename2) if n is not None]
        text = f"{' -> '.join(names)}: {e.strerror}" if names else e.strerror
    else:
        text = str(e)
        if isinstance(e, KeyError) and len(e.args) == 1:
            text = f"missing key {e.args[0]!r}"
    text = " ".join(line.strip() for line in text.strip().splitlines() if line.strip()) or type(e).__name__
    if not _ours(e):
        text = f"{type(e).__name__}: {text} (unexpected; run again with {DEBUG_FLAG} or {DEBUG_ENV}=1 for the traceback)"
    return text


def fail(prog: str, text: str) -> int:
    """Print ``PROG: error: TEXT`` on one line; return 2."""
    print(f"{prog}: error: {' '.join(text.split())}", file=sys.stderr)
    return 2


def guarded(prog: str, body: Callable[[list[str] | None], int | None], argv: Sequence[str] | None = None,
            *, subcommands: Sequence[str] = ()) -> int:
    """Run ``body(argv)`` (``argv`` None: ``sys.argv[1:]``) behind the error boundary; return the exit status."""
    argv, debug = split_debug(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in subcommands:
        prog = f"{prog} {argv[0]}"
    try:
        return int(body(argv) or 0)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted (outputs are written atomically: none is half-written)", file=sys.stderr)
        return 130
    except BrokenPipeError:
        _silence_stdout()
        return 0
    except Exception as e:
        if debug:
            raise
        if isinstance(e, OSError) and _broken_pipe(e):
            _silence_stdout()
            return 0
        return fail(prog, message(e))


def _broken_pipe(e: OSError) -> bool:
    import errno

    return e.errno == errno.EPIPE


def _silence_stdout() -> None:
    """The reader of stdout went away: send what Python still flushes at exit to /dev/null."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def script(name: str, body: Callable[[], object]) -> None:
    """For Snakemake ``script:`` files: run ``body()`` behind the boundary; exit with its status on failure."""

    def run(_argv) -> int:
        body()
        return 0

    status = guarded(name, run, [])
    if status:
        sys.exit(status)
