"""Files in and out: write whole or not at all, replace nothing but a regular file, read safely.

Every output (workbook, CSV, picture, JSON) goes through :func:`atomic_path`:

* **What may be replaced.** A missing name or an existing regular file that the user may
  write. Anything else at the output's name is refused with one line before anything is
  written (:func:`check_target`): a symbolic link (never followed: a link to a file
  elsewhere would have that file replaced; the folders on the way may be links), a folder,
  a FIFO, a device (``/dev/full``, ``/dev/null``), a socket, a file the user may not
  write or that is marked read-only for everyone (0444: refused even for root), and
  any file the command reads (``--data``, ``--test``, ``--params``), whatever its name.
  The check is made again when the new file is complete, just before it replaces the
  old one.
* **Rights.** A file replaced keeps its permissions (a 0600 file stays 0600) and, when
  root replaces it, its owner and group.
* **Where the bytes go first.** On Linux, into an anonymous file (``O_TMPFILE``) in the
  target's folder: it has no name, so a run killed at any moment, even by SIGKILL, leaves
  nothing behind. Only when it is complete is it given a short hidden name
  (``.wbXXXXXXXX.tmp``, so a target name of 255 characters still works) and, at once,
  renamed over the target (:func:`os.replace` needs the same filesystem, hence the same
  folder; the hidden name lives for two system calls). Elsewhere (no ``O_TMPFILE``) it is
  such a hidden file from the start, removed on every exit Python sees (an exception,
  Ctrl-C); only SIGKILL can leave one there.
* **Errors.** A failed write (a full disk, say) is a :class:`WorkbenchError` naming the
  target: ``cannot write out/titanic.xlsx: No space left on device``; the old file is
  untouched. :func:`atomic_file` drops every write after the first failure, so a writer
  that tries again when it is collected (``ZipFile.__del__``) adds no second error.
* **Folders.** :func:`output_folder` makes an output folder, locks it for one writer at a
  time, and removes it again if it made it and the job failed before writing into it.

Scratch files of a writer (XlsxWriter's per-part files) go to :func:`scratch_folder`, a
private folder in the system's temporary folder, removed on every exit path.

Inputs come in through :func:`open_regular` (a regular file of sane size, opened without
blocking); CSV files through :mod:`workbench.csv_files`, which opens them with it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import io
import os
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from .errors import WorkbenchError
from .limits import size_text


def check_target(
    target: str | os.PathLike[str], *, inputs: Iterable[str | os.PathLike[str] | None] = ()
) -> Path:
    """``target`` if writing it may create or replace it, else a WorkbenchError saying why not.

    Refuses an empty name; anything at the name but a regular file (a symbolic link, a
    folder, a FIFO, a device, a socket); a file the user may not write, or that is marked
    read-only (no write permission for anyone, e.g. 0444: refused even for root, who could
    write it); a folder the user may not write into; and any of ``inputs`` (the files the
    command reads: an output never replaces its own input, whatever its name).
    """
    if not str(target).strip():
        raise WorkbenchError("the output file name is empty; give a file name")
    target = Path(target)
    info = _existing(target)
    for source in inputs if info is not None else ():
        if source is not None and _same_file(info, source):
            raise WorkbenchError(
                f"cannot write {target}: it is the input file {source}; workbench never replaces"
                " its input: write the output elsewhere (another --out)"
            )
    _check_folder(target)
    return target


def _existing(target: Path) -> os.stat_result | None:
    """The status of the regular file ``target`` that we may replace, None if there is none, else an error."""
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        above = next((p for p in target.parents if p.exists()), target.parent)
        raise WorkbenchError(f"cannot write {target}: {above} is a file, not a folder") from None
    except OSError as e:
        raise WorkbenchError(f"cannot write {target}: {e.strerror or e}") from None
    except ValueError as e:  # a NUL in the name
        raise WorkbenchError(f"cannot write {str(target)!r}: {e}") from None
    if stat.S_ISLNK(info.st_mode):
        raise WorkbenchError(
            f"cannot write {target}: it is a symbolic link (to {os.readlink(target)});"
            " workbench replaces only regular files: name the file itself, or remove the link"
        )
    if stat.S_ISDIR(info.st_mode):
        raise WorkbenchError(f"cannot write {target}: it is a folder; give a file name")
    if not stat.S_ISREG(info.st_mode):
        raise WorkbenchError(
            f"cannot write {target}: it is not a regular file (a device, FIFO or socket);"
            " workbench replaces only regular files"
        )
    mode = stat.S_IMODE(info.st_mode)
    if not mode & 0o222 or not os.access(target, os.W_OK):
        why = "it is read-only" if not mode & 0o222 else "you may not write it"
        raise WorkbenchError(
            f"cannot write {target}: {why} (mode {mode:04o}) and workbench does not replace a file"
            " you may not write: make it writable or give another name"
        )
    return info


def _check_folder(target: Path) -> None:
    """Refuse a target whose folder (or, if missing, the nearest folder above it) we may not write into."""
    folder = next((p for p in target.parents if p.exists()), Path("."))
    if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
        raise WorkbenchError(f"cannot write {target}: the folder {folder} is not writable for you")


def _same_file(info: os.stat_result, source: str | os.PathLike[str]) -> bool:
    try:
        other = os.stat(source)
    except (OSError, ValueError):
        return False
    return (info.st_dev, info.st_ino) == (other.st_dev, other.st_ino)


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a path to write the whole file to; on success it replaces ``target`` at once.

    If the ``with`` block raises (or is interrupted), ``target`` is left as it was and
    no file is left behind (see the module docstring). A file replaced keeps its
    permissions (and, when run as root, its owner). The path is valid in this
    process only (on Linux, a ``/proc/self/fd`` link): another program must write into a
    folder of its own, and its bytes be moved into place with :func:`write_bytes`.
    """
    target = check_target(target)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise WorkbenchError(f"cannot write {target}: {e.strerror or e}") from None
    try:
        with _anonymous(folder) as (tmp, finish):
            yield tmp
            finish(target)
    except OSError as e:
        raise WorkbenchError(f"cannot write {target}: {e.strerror or e}") from e


@contextlib.contextmanager
def atomic_file(target: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """:func:`atomic_path`'s file, open for writing and seeking (as a zip writer needs).

    Once a write has failed (a full disk), the file takes no more bytes and raises no more
    errors: a writer that writes again when it is collected (``ZipFile.__del__`` writes its
    central directory) then fails quietly, and the first error alone is reported.
    """
    with atomic_path(target) as tmp:
        f = _Doomable(open(tmp, "w+b"))  # noqa: SIM115 - closed below, on every path
        try:
            yield f
            f.close()
        except BaseException:
            f.doom()
            raise


class _Doomable(io.RawIOBase):
    """A file whose writes, after its first failure (or :meth:`doom`), are dropped without a word.

    A doomed file still keeps a position (seek, write and tell move it as on a file), so a
    writer's arithmetic on offsets (a zip's central directory) raises nothing either.
    """

    def __init__(self, f: BinaryIO) -> None:
        self._f, self._doomed, self._pos = f, False, 0

    def doom(self) -> None:
        if not self._doomed:
            self._doomed = True
            with contextlib.suppress(OSError, ValueError):
                self._pos = self._f.tell()
            with contextlib.suppress(OSError):
                self._f.close()

    def _try(self, call, *args):
        try:
            return call(*args)
        except OSError:
            self.doom()
            raise

    def write(self, b) -> int:
        if self._doomed:
            self._pos += len(b)
            return len(b)
        return self._try(self._f.write, b)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if self._doomed:
            self._pos = offset + (self._pos if whence == io.SEEK_CUR else 0)
            return self._pos
        return self._try(self._f.seek, offset, whence)

    def tell(self) -> int:
        return self._pos if self._doomed else self._try(self._f.tell)

    def truncate(self, size: int | None = None) -> int:
        return self._pos if self._doomed else self._try(self._f.truncate, size)

    def flush(self) -> None:
        if not self._doomed and not self._f.closed:
            self._try(self._f.flush)

    def seekable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def close(self) -> None:
        if not self.closed:
            if not self._doomed:
                self._try(self._f.close)
            super().close()


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
        _keep_rights(target, lambda mode: os.fchmod(fd, mode), lambda uid, gid: os.fchown(fd, uid, gid))
        # A short hidden name, whatever the target's length (a 251-character name is legal).
        fd_tmp, tmp = tempfile.mkstemp(prefix=".wb", suffix=".tmp", dir=folder)
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


def _keep_rights(target: Path, chmod, chown) -> None:
    """Give the new file the rights of the file it replaces: its permissions, and as root its owner.

    Checked again here, when the new file is complete: something put at the name since the
    writing began (a link, a FIFO, a read-only file) is refused as at the start.
    """
    info = _existing(target)
    if info is None:
        return
    chmod(stat.S_IMODE(info.st_mode) & 0o777)
    if os.geteuid() == 0:  # only root may give a file away; others' new files are their own
        chown(info.st_uid, info.st_gid)


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
    fd, tmp = tempfile.mkstemp(prefix=".wb", suffix=".tmp", dir=folder)
    os.close(fd)
    tmp_path = Path(tmp)

    def finish(target: Path) -> None:
        os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp makes 0600 files; outputs get normal rights
        _keep_rights(target, lambda mode: os.chmod(tmp_path, mode), lambda u, g: os.chown(tmp_path, u, g))
        os.replace(tmp_path, target)

    try:
        yield tmp_path, finish
    finally:
        with contextlib.suppress(OSError):
            tmp_path.unlink()


@contextlib.contextmanager
def output_folder(out: str | os.PathLike[str]) -> Iterator[Path]:
    """The folder ``out``, made if missing, locked for one writer; removed again if the block fails.

    The lock (``flock`` on the folder itself) is held until the block ends: another
    workbench writing into the same folder at once (a second build) is refused, not
    mixed in (on a filesystem that has no locks, some network mounts, it is not
    locked). In one process the lock is re-entrant (``build`` holds it while
    :func:`~workbench.build.build_all`, which takes it too, writes). Folders made here
    are removed if the block raises and they are still empty: an error leaves no empty
    folder behind.
    """
    if not str(out).strip():
        raise WorkbenchError("the output folder is empty; give a folder name (e.g. --out workbooks)")
    out = Path(out)
    made = _make_folder(out)
    try:
        with _locked(out):
            yield out
    except BaseException:
        for folder in made:  # deepest first; rmdir removes only an empty folder
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def _make_folder(out: Path) -> list[Path]:
    """Make ``out`` and the folders above it that are missing; return those made, deepest first."""
    missing = [p for p in (out, *out.parents) if not p.exists()]
    existing = next((p for p in (out, *out.parents) if p.exists()), Path("."))
    if not existing.is_dir():
        raise WorkbenchError(f"cannot write to the folder {out}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise WorkbenchError(f"cannot write to the folder {out}: permission denied")
    made = []
    try:
        for folder in reversed(missing):
            folder.mkdir()
            made.insert(0, folder)
    except OSError as e:
        for folder in made:
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise WorkbenchError(f"cannot write to the folder {out}: {e.strerror or e}") from None
    return made


_held: dict[tuple[int, int], int] = {}


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as e:
        raise WorkbenchError(f"cannot write to the folder {folder}: {e.strerror or e}") from None
    try:
        info = os.fstat(fd)
        key = (info.st_dev, info.st_ino)
        if key not in _held:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise WorkbenchError(
                    f"cannot write to the folder {folder}: another workbench is writing into it"
                    " (a build); wait for it to finish, or write elsewhere (another --out)"
                ) from None
            except OSError as e:
                if e.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL):
                    raise WorkbenchError(f"cannot lock the folder {folder}: {e.strerror or e}") from None
                # A filesystem without locks (some network mounts): write unlocked, as before.
        _held[key] = _held.get(key, 0) + 1
        try:
            yield
        finally:
            _held[key] -= 1
            if not _held[key]:
                del _held[key]
    finally:
        os.close(fd)  # closing the descriptor that holds it releases the lock


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
