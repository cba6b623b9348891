"""Write files whole or not at all, and replace nothing but a regular file.

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
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import WorkbenchError


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
