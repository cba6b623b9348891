"""Recalculate a workbook from scratch with LibreOffice, the real spreadsheet engine.

A workbook written by workbench stores each formula's value as Python computed
it. LibreOffice trusts such cached values by default, so a plain conversion would
only echo Python back. :func:`recalculate` runs LibreOffice headless with a
throw-away profile whose settings say "always recalculate on load", then saves a
copy: every number in that copy was computed by LibreOffice from the formulas.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from ...errors import WorkbenchError


def profile_settings(recalc: int = 0) -> str:
    """LibreOffice's ``registrymodifications.xcu`` that sets, for .xlsx and .ods files alike, when
    a loaded file is recalculated (/org.openoffice.Office.Calc/Formula/Load): 0 always (what
    :func:`recalculate_all` uses), 1 never, 2 ask. LibreOffice's default for files it did not write
    is never: it trusts the cached values."""
    items = "".join(
        f'<item oor:path="/org.openoffice.Office.Calc/Formula/Load">\n'
        f' <prop oor:name="{mode}" oor:op="fuse"><value>{recalc}</value></prop></item>\n'
        for mode in ("OOXMLRecalcMode", "ODFRecalcMode")
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<oor:items xmlns:oor="http://openoffice.org/2001/registry"\n'
        ' xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
        f"{items}</oor:items>\n"
    )


#: The file whose lock marks a private profile folder in use (see :func:`private_profile`).
_IN_USE = "in-use.lock"


def profiles_folder() -> Path:
    """Where LibreOffice's private profiles live: a per-user cache folder (created private)."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = cache / "workbench" / "libreoffice"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if os.access(folder, os.W_OK | os.X_OK):
            return folder
    except OSError:
        pass  # no writable home: the system's temporary folder, one sub-folder per user
    folder = Path(tempfile.gettempdir()) / f"workbench-libreoffice-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def reclaim_stale_profiles(folder: Path) -> list[Path]:
    """Remove the profile folders whose run is gone (killed by SIGKILL, say); returns them.

    A run holds an exclusive ``flock`` on its folder's lock file for as long as it, its
    driver or LibreOffice lives (the descriptor is inherited): a lock we can take is stale.
    Call it holding :func:`_profiles_lock`, so no folder is taken while being made.
    """
    removed = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.is_symlink() or not entry.is_dir():
            continue
        try:
            fd = os.open(entry / _IN_USE, os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
        except BlockingIOError:
            pass  # in use
        finally:
            os.close(fd)
    return removed


@contextlib.contextmanager
def _profiles_lock(folder: Path) -> Iterator[None]:
    fd = os.open(folder / ".lock", os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def private_profile(purpose: str) -> Iterator[tuple[Path, int]]:
    """A private folder for one LibreOffice run: ``profile/`` (recalculate-on-load settings) and
    its outputs; yields (the folder, the descriptor of its held lock, for child processes to inherit).

    The folder is removed on every exit Python sees (an error, Ctrl-C, SIGTERM turned into
    an exception). It lives in :func:`profiles_folder`, named ``PURPOSE-PID-...``, so a run
    killed by SIGKILL leaves it where the next run finds and removes it.
    """
    folder = profiles_folder()
    with _profiles_lock(folder):
        reclaim_stale_profiles(folder)
        scratch = Path(tempfile.mkdtemp(prefix=f"{purpose}-{os.getpid()}-", dir=folder))
        fd = os.open(scratch / _IN_USE, os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        user = scratch / "profile" / "user"
        user.mkdir(parents=True)
        (user / "registrymodifications.xcu").write_text(profile_settings())
        yield scratch, fd
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        os.close(fd)


def find_soffice() -> str | None:
    """Path of LibreOffice's ``soffice`` program, or None when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(
    src: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    to: str = "xlsx",
    timeout: float = 600,
) -> Path:
    """Open ``src`` in LibreOffice, recalculating every formula, and save it as ``to``.

    ``to`` is a LibreOffice ``--convert-to`` target such as ``"xlsx"`` or ``"pdf"``.
    Returns the path of the written file (``src``'s name with the new suffix,
    inside ``out_dir``, which must not be ``src``'s own folder).
    """
    return convert_all([src], out_dir, to=to, timeout=timeout)[0]


def convert_all(
    srcs: Sequence[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    *,
    to: str = "xlsx",
    timeout: float = 600,
) -> list[Path]:
    """:func:`convert` several workbooks with one start of LibreOffice (it takes seconds to start).

    The workbooks need distinct file names; the outputs are returned in ``srcs``' order.
    """
    soffice = find_soffice()
    if soffice is None:
        raise WorkbenchError(
            "LibreOffice is not installed (no 'soffice' on PATH); on Debian or Ubuntu:"
            " apt-get install -y libreoffice-calc"
        )
    paths, out_dir = _checked(srcs, out_dir)
    if not paths:
        return []
    out_dir.mkdir(parents=True, exist_ok=True)
    outs = [out_dir / f"{src.stem}.{to.split(':')[0]}" for src in paths]
    for out in outs:  # LibreOffice exits 0 even when it fails: only a fresh file is proof
        out.unlink(missing_ok=True)
    done = _run_soffice(soffice, paths, out_dir, to, timeout)
    for src, out in zip(paths, outs, strict=True):
        if done.returncode != 0 or not out.is_file():
            detail = (done.stderr or done.stdout).strip().splitlines()
            raise WorkbenchError(
                f"LibreOffice could not convert {src.name} (exit {done.returncode}): "
                + (detail[-1] if detail else "no output")
            )
    return outs


def _checked(
    srcs: Sequence[str | os.PathLike[str]], out_dir: str | os.PathLike[str]
) -> tuple[list[Path], Path]:
    """Absolute paths of existing workbooks with distinct names, and an output folder of their own."""
    paths, out_dir = [Path(src).resolve() for src in srcs], Path(out_dir).resolve()
    for src in paths:
        if not src.is_file():
            raise WorkbenchError(f"{src}: no such workbook")
        if src.parent == out_dir:
            raise WorkbenchError("convert() needs an output folder other than the workbook's own")
    stems = [src.stem for src in paths]
    if len(set(stems)) < len(stems):
        raise WorkbenchError(f"convert_all() needs workbooks with distinct names; got {', '.join(stems)}")
    return paths, out_dir


def _run_soffice(
    soffice: str, paths: list[Path], out_dir: Path, to: str, timeout: float
) -> subprocess.CompletedProcess[str]:
    """One headless LibreOffice, in a fresh profile of its own, converting ``paths`` into ``out_dir``."""
    with private_profile("convert") as (scratch, held):
        cmd = [
            soffice,
            f"-env:UserInstallation={(scratch / 'profile').as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            to,
            "--outdir",
            str(out_dir),
            *map(str, paths),
        ]
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, pass_fds=(held,))
        except subprocess.TimeoutExpired:
            names = ", ".join(src.name for src in paths)
            raise WorkbenchError(f"LibreOffice took over {timeout:g} s to convert {names}") from None


def recalculate(
    src: str | os.PathLike[str], out_dir: str | os.PathLike[str], *, timeout: float = 600
) -> Path:
    """A copy of the workbook ``src`` in ``out_dir`` whose every formula LibreOffice recomputed.

    Read the copy with ``openpyxl.load_workbook(path, data_only=True)`` to see
    LibreOffice's numbers.
    """
    return convert(src, out_dir, to="xlsx", timeout=timeout)


def recalculate_all(
    srcs: Sequence[str | os.PathLike[str]], out_dir: str | os.PathLike[str], *, timeout: float = 600
) -> list[Path]:
    """:func:`recalculate` several workbooks with one start of LibreOffice."""
    return convert_all(srcs, out_dir, to="xlsx", timeout=timeout)
