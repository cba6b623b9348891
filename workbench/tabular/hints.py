"""A hint names an option as its reader gives it: a keyword of :func:`prepare` or a flag of the CLI.

Messages from :mod:`workbench.tabular` tell the user what to change. A Python caller passes
``drop=['home.dest']``; a command-line user types ``--drop home.dest``. The command line sets
:data:`STYLE` to ``"cli"`` for the call, and every hint follows it. A name that is no column is met
with the one it likely meant (:func:`meant`).
"""

from __future__ import annotations

import difflib
import shlex
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

#: ``"python"`` (keywords, the default) or ``"cli"`` (flags, as ``workbench build --data`` takes them).
STYLE: ContextVar[str] = ContextVar("workbench_hint_style", default="python")


def option(name: str, values: str | Iterable[str]) -> str:
    """``drop=['a', 'b']`` or ``--drop a b``; one value (``missing='fill'``) or ``--missing fill``."""
    if STYLE.get() != "cli":
        return f"{name}={values!r}" if isinstance(values, str) else f"{name}={list(values)!r}"
    flag = "--" + name.replace("_", "-")
    values = [values] if isinstance(values, str) else list(values)
    # A name that starts with '-' reads as a flag of its own: only --drop=-x passes it.
    plain = [shlex.quote(v) for v in values if not v.startswith("-")]
    dashed = [f"{flag}={shlex.quote(v)}" for v in values if v.startswith("-")]
    return " ".join(([flag, *plain] if plain else []) + dashed)


@contextmanager
def cli() -> Iterator[None]:
    """Inside the block, hints name flags (``--drop x``), not keywords; after it, as before (the
    command line's ``main()`` may be called again, from Python, in the same process)."""
    said = STYLE.set("cli")
    try:
        yield
    finally:
        STYLE.reset(said)


def keyword(name: str) -> str:
    """An option's name alone: ``drop=`` or ``--drop``."""
    return f"--{name.replace('_', '-')}" if STYLE.get() == "cli" else f"{name}="


def meant(name: object, columns: Iterable[object], said: str) -> str:
    """``said`` with ``did you mean 'Survived'?`` in its ``{}``: the column named ``name`` but for
    case and spaces, else the closest name (difflib's); nothing when none is close."""
    names = [str(c) for c in columns]
    same = [c for c in names if c.casefold().strip() == str(name).casefold().strip()]
    close = same or difflib.get_close_matches(str(name), names, n=1, cutoff=0.75)
    return said.format(f"did you mean {close[0]!r}?") if close else ""
