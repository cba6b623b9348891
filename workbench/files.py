"""Files in and out: write whole or not at all, replace nothing but a regular file, read safely.

Every output (workbook, CSV, picture, JSON) goes through :func:`atomic_path`:

* **What may be replaced.** A missing name or an existing regular file. A folder, a
  FIFO, a device (``/dev/full``, ``/dev/null``) or a socket at the output path is refused
  before anything is written (:func:`check_target`). A symbolic link is followed: the
  regular file it points at is replaced and the link stays (as editors save through a
  link); a link to something missing or to a special file is refused.
* **Where the bytes go first.** On Linux, into an anonymous file (``O_TMPFILE``) in the
  target's folder: it has no name, so a run killed at any moment, even by SIGKILL, leaves
  nothing behind. Only when it is complete is it given a hidden name and, at once,
  renamed over the target (:func:`os.replace` needs the same filesystem, hence the same
  folder; the hidden name lives for two system calls). Elsewhere (no ``O_TMPFILE``) it is
  a hidden ``.NAME.XXXX.tmp`` file in that folder, removed on every exit Python sees (an
  exception, Ctrl-C); only SIGKILL can leave one there.
* **Errors.** A failed write (a full disk, say) is a :class:`WorkbenchError` naming the
  target: ``cannot write out/titanic.xlsx: No space left on device``; the old file is
  untouched.

Scratch files of a writer (XlsxWriter's per-part files) go to :func:`scratch_folder`, a
private folder in the system's temporary folder, removed on every exit path.

Inputs come in through :func:`open_regular` (a regular file of sane size, opened without
blocking) and, for CSV files, :func:`read_csv` (the prologue both CSV readers share).
"""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import math
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import DataError, WorkbenchError
from .limits import check_memory, size_text


def check_target(target: str | os.PathLike[str]) -> Path:
    """The regular file that writing ``target`` will create or replace, or a WorkbenchError.

    Follows a symbolic link to the file it points at. Refuses an empty name, a folder,
    and anything but a regular file.
    """
    if not str(target).strip():
        raise WorkbenchError("the output file name is empty; give a file name")
    target = Path(target)
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        return target
    except NotADirectoryError:
        above = next((p for p in target.parents if p.exists()), target.parent)
        raise WorkbenchError(f"cannot write {target}: {above} is a file, not a folder") from None
    except OSError as e:
        raise WorkbenchError(f"cannot write {target}: {e.strerror or e}") from None
    if stat.S_ISLNK(info.st_mode):
        real = Path(os.path.realpath(target))
        try:
            info = os.stat(real)
        except OSError:
            raise WorkbenchError(
                f"cannot write {target}: it is a symbolic link to {real}, which does not exist"
            ) from None
        target = real
    if stat.S_ISDIR(info.st_mode):
        raise WorkbenchError(f"cannot write {target}: it is a folder; give a file name")
    if not stat.S_ISREG(info.st_mode):
        raise WorkbenchError(
            f"cannot write {target}: it is not a regular file (a device, FIFO or socket);"
            " workbench replaces only regular files"
        )
    return target


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a path to write the whole file to; on success it replaces ``target`` at once.

    If the ``with`` block raises (or is interrupted), ``target`` is left as it was and
    no file is left behind (see the module docstring). The path is valid in this
    process only (on Linux, a ``/proc/self/fd`` link): another program must write into a
    folder of its own, and its bytes be moved into place with :func:`write_bytes`.
    """
    name = Path(target)
    target = check_target(target)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise WorkbenchError(f"cannot write {name}: {e.strerror or e}") from None
    try:
        with _anonymous(folder) as (tmp, finish):
            yield tmp
            finish(target)
    except OSError as e:
        raise WorkbenchError(f"cannot write {name}: {e.strerror or e}") from e


@contextlib.contextmanager
def _anonymous(folder: Path) -> Iterator[tuple[Path, object]]:
    """An O_TMPFILE file in ``folder`` (path: its /proc/self/fd link) and how to name it."""
    umask = os.umask(0)
    os.umask(umask)
    fd = _tmpfile(folder, umask)
    if fd is None:
        with _named(folder, umask) as named:
            yield named
        return
    proc = Path(f"/proc/self/fd/{fd}")

    def finish(target: Path) -> None:
        fd_tmp, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
        os.close(fd_tmp)
        os.unlink(tmp)  # linkat cannot replace a file: give the finished file this free name, then rename
        # A directory descriptor makes os.link call linkat(AT_SYMLINK_FOLLOW), which links the
        # file /proc/self/fd/N stands for (plain link() would try to link the /proc entry itself).
        where = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.link(proc, Path(tmp).name, dst_dir_fd=where, follow_symlinks=True)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        finally:
            os.close(where)

    try:
        yield proc, finish
    finally:
        os.close(fd)


def _tmpfile(folder: Path, umask: int) -> int | None:
    """A descriptor of a new anonymous file in ``folder``, or None where there is no such thing."""
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None or not Path("/proc/self/fd").is_dir():
        return None
    try:
        return os.open(folder, flag | os.O_RDWR | os.O_CLOEXEC, 0o666 & ~umask)
    except OSError as e:
        if e.errno in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):  # the filesystem has no O_TMPFILE
            return None
        raise


@contextlib.contextmanager
def _named(folder: Path, umask: int) -> Iterator[tuple[Path, object]]:
    """The portable way: a hidden temporary file beside the target, removed on failure."""
    fd, tmp = tempfile.mkstemp(prefix=".workbench.", suffix=".tmp", dir=folder)
    os.close(fd)
    tmp_path = Path(tmp)

    def finish(target: Path) -> None:
        os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp makes 0600 files; outputs get normal rights
        os.replace(tmp_path, target)

    try:
        yield tmp_path, finish
    finally:
        with contextlib.suppress(OSError):
            tmp_path.unlink()


@contextlib.contextmanager
def scratch_folder() -> Iterator[Path]:
    """A private temporary folder, removed with everything in it however the block ends."""
    folder = Path(tempfile.mkdtemp(prefix="workbench-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def write_bytes(target: str | os.PathLike[str], data: bytes) -> Path:
    """Atomically write ``data`` to ``target`` and return the target path."""
    with atomic_path(target) as tmp, open(tmp, "wb") as f:
        f.write(data)
    return Path(target)


def write_text(target: str | os.PathLike[str], text: str) -> Path:
    """Atomically write UTF-8 ``text`` (newlines as given) to ``target``."""
    return write_bytes(target, text.encode("utf-8"))


# --- reading ---------------------------------------------------------------------


def open_regular(
    path: str | os.PathLike[str],
    *,
    what: str,
    max_bytes: int,
    missing: str = "no such file",
    error: type[WorkbenchError] = WorkbenchError,
) -> io.BufferedReader:
    """Open ``path`` for reading if it is a regular file of at most ``max_bytes``; else refuse.

    Opened with ``O_NONBLOCK`` and checked on the open descriptor, so a FIFO neither
    blocks nor can be swapped in between the check and the read.

    Raises:
        WorkbenchError: missing, a folder, not a regular file, too large, unreadable.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise error(f"{path}: {missing}") from None
    except OSError as e:
        raise error(f"{path}: cannot be read ({e.strerror or e})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise error(f"{path}: is a folder, not {what}")
        if not stat.S_ISREG(info.st_mode):
            raise error(f"{path}: is not a regular file (a FIFO, device or socket), so not {what}")
        if info.st_size > max_bytes:
            raise error(
                f"{path}: is {size_text(info.st_size)}, larger than any {what} workbench reads"
                f" (at most {size_text(max_bytes)})"
            )
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


#: The largest CSV file read, and the memory reading one takes per byte of file (its rows as
#: Python strings, then as columns: measured about 14 bytes per byte for Kaggle's layout).
MAX_CSV_BYTES = 1 * 2**30
MEMORY_PER_BYTE = 20


def read_csv(path: Path, *, rows_are: str) -> tuple[list[str], list[list[str]], list[int]]:
    """Return the header, the data rows (fields stripped) and each row's line number.

    ``rows_are`` names what the rows hold (e.g. ``"passenger rows"``) in the
    messages about an empty file or a file with a header only.
    """
    try:
        raw = open_regular(path, what="a CSV file", max_bytes=MAX_CSV_BYTES)
        size = raw.seek(0, io.SEEK_END)
        raw.seek(0)
        check_memory(size * MEMORY_PER_BYTE, f"reading {path} ({size:,} bytes)", "the size of the file")
    except DataError:
        raise
    except WorkbenchError as e:
        raise DataError(str(e), path=path) from None
    try:
        with raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            records = [(reader.line_num, r) for r in reader if any(v.strip() for v in r)]
    except UnicodeDecodeError as e:
        raise DataError(
            f"{path}: is not UTF-8 text (byte 0x{e.object[e.start]:02x} at offset {e.start});"
            " save it as 'CSV UTF-8'",
            path=path,
        ) from None
    except csv.Error as e:
        raise DataError(f"{path}: not a readable CSV file ({e})", path=path) from None
    except OSError as e:
        raise DataError(f"{path}: cannot be read ({e.strerror or e})", path=path) from None

    if not records:
        raise DataError(f"{path}: the file is empty; expected a header and {rows_are}", path=path)
    header = [h.strip() for h in records[0][1]]
    for i, name in enumerate(header):
        if name in header[:i]:
            raise DataError(f"{path}: the header names column {name!r} twice", path=path, column=name)
    rows, lines = [], []
    for i, (line, values) in enumerate(records[1:], start=1):
        if len(values) != len(header):
            raise DataError(
                f"{path}: row {i} (line {line}) has {len(values)} fields, the header has {len(header)}",
                path=path,
                row=i,
            )
        rows.append([v.strip() for v in values])
        lines.append(line)
    return header, rows, lines


_INTEGER = re.compile(r"[+-]?\d{1,30}")


def to_whole(v: str, limit: int = 2**53) -> int | None:
    """A whole number of magnitude at most ``limit``, kept exact, or None.

    Digits are read as an exact int (a float would round 9007199254740993); a decimal such
    as ``3.0`` is also whole.
    """
    if _INTEGER.fullmatch(v):
        x = int(v)
    else:
        f = to_float(v)
        if f is None or f != round(f) or abs(f) > limit:
            return None
        x = int(f)
    return x if abs(x) <= limit else None


def to_float(v: str) -> float | None:
    """A plain finite decimal number, or None (also for an empty field)."""
    # float() also takes '1_000', 'nan' and 'infinity'; a CSV number is plainer.
    if not v or "_" in v:
        return None
    try:
        x = float(v)
    except ValueError:
        return None
    return x if math.isfinite(x) else None
