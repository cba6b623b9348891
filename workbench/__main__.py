"""The ``workbench`` program, also run as ``python -m workbench``: :func:`workbench.cli.main` on the
command line's arguments, then exit with its status."""

import gc
import sys
from typing import NoReturn

from . import cli


def command() -> NoReturn:
    """Run the program and exit. The objects still alive are left out of the collection Python
    runs as it exits (:func:`gc.freeze`): it would walk each of the hundreds of thousands torch
    makes, one by one, only for the system to free them all at once a moment later. Every file is
    written and closed by then; at-exit handlers still run, and the standard streams are flushed."""
    status = cli.main()
    gc.freeze()
    sys.exit(status)


if __name__ == "__main__":
    command()
