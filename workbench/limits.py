"""What workbench takes in: input files that are regular files of sane size, jobs that fit in memory.

A careless or hostile input must never hang the program or eat the machine's memory:

* every input file is opened without blocking (``O_NONBLOCK``: a FIFO does not wait for
  a writer) and refused unless it is a regular file (not a folder, a FIFO, a device such
  as ``/dev/zero``) no larger than the limit its reader gives;
* every job estimates the memory it will need before it starts (:func:`check_memory`)
  and refuses, naming the option to lower, when that is above the budget:
  :data:`MEMORY_BUDGET` (2 GiB), or the environment variable ``WORKBENCH_MEMORY_BUDGET``
  (``"8GiB"``, ``"512MiB"``), which may not exceed the machine's memory. The budget
  counts what the job's data needs, beyond the ~0.4 GB that Python, torch and pandas
  take when they load.
"""

from __future__ import annotations

import os
import re

from .errors import WorkbenchError

#: The memory a job may plan to use, unless ``WORKBENCH_MEMORY_BUDGET`` says otherwise.
MEMORY_BUDGET = 2 * 2**30
ENV_BUDGET = "WORKBENCH_MEMORY_BUDGET"

#: Seeds are 32-bit unsigned integers: numpy's and torch's generators both take them.
MAX_SEED = 2**32 - 1

_UNITS = {"": 1, "B": 1, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def memory_budget() -> int:
    """The budget in bytes: ``WORKBENCH_MEMORY_BUDGET`` when set, else :data:`MEMORY_BUDGET`."""
    text = os.environ.get(ENV_BUDGET, "").strip()
    if not text:
        return MEMORY_BUDGET
    found = re.fullmatch(r"(\d{1,15})\s*([KMGT]iB|B)?", text, flags=re.IGNORECASE)
    if found is None:
        raise WorkbenchError(
            f"{ENV_BUDGET}={text!r} is not a size; write it like 512MiB or 8GiB (or unset it for 2GiB)"
        )
    budget = int(found.group(1)) * _UNITS[(found.group(2) or "").upper()]
    machine = _physical_memory()
    if budget <= 0 or (machine and budget > machine):
        raise WorkbenchError(
            f"{ENV_BUDGET}={text!r} must be more than 0 and at most"
            f" this machine's memory ({size_text(machine)})"
        )
    return budget


def check_memory(need: int, what: str, lower: str) -> None:
    """Refuse a job that would need more than the budget: ``what`` needs ``need`` bytes.

    ``lower`` names what the user can change, e.g. ``"--starts or --epochs"``.
    """
    budget = memory_budget()
    if need > budget:
        raise WorkbenchError(
            f"{what} would need about {size_text(need)} of memory,"
            f" more than the budget of {size_text(budget)}:"
            f" lower {lower} (or raise the budget with {ENV_BUDGET}, e.g. {ENV_BUDGET}=8GiB)"
        )


def check_seed(seed: object, name: str = "seed") -> int:
    """A seed as an int in 0..:data:`MAX_SEED`, or a WorkbenchError naming it."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise WorkbenchError(f"{name} must be a whole number from 0 to {MAX_SEED}; got {seed!r}")
    return seed


def _physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def size_text(n: int | None) -> str:
    if n is None:
        return "unknown"
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"
