"""Files replaced atomically: a crash leaves the old file or the new one, never half of one.

The new content goes to a uniquely named temporary file in the target's folder (so an
existing ``name.tmp`` of the user's is never touched), is flushed to disk, takes the mode
a plain ``open(path, "w")`` would give it (``0o666`` less the process umask, where
``tempfile.mkstemp`` alone would give ``0o600``), and is renamed over the target. An
error names the target, never the temporary file, and leaves no temporary file behind.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

__all__ = ["current_umask", "replace_atomically", "write_text_atomically"]


def current_umask() -> int:
    """The process umask, read without changing it where the system allows.

    Linux reports it in ``/proc/self/status``; elsewhere it is read by setting and
    restoring it at once (a file another thread creates in between would get mode
    ``0o666``/``0o777`` less ``0o022``, the usual umask, not a wrong one of ours).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def replace_atomically(path: str | os.PathLike[str], write: Callable[[IO[bytes]], object]) -> Path:
    """Let ``write`` fill a temporary file next to ``path``, then rename it over ``path``.

    The folder is created if missing. The file gets mode ``0o666 & ~umask``.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        OSError: The file could not be written (disk full, read-only or missing
            folder, ``path`` is a folder ...); its ``filename`` is ``path``.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    path.parent.mkdir(parents=True, exist_ok=True)  # an error names the folder
    try:
        handle, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
        )
    except OSError as error:
        raise _naming(error, path) from error
    try:
        with os.fdopen(handle, "wb") as stream:
            if hasattr(os, "fchmod"):
                os.fchmod(stream.fileno(), 0o666 & ~current_umask())
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException as error:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(error, OSError) and error.filename in (None, temporary):
            raise _naming(error, path) from error  # not an error the callback names
        raise
    if not hasattr(os, "fchmod"):  # pragma: no cover - Windows before Python 3.13
        os.chmod(path, 0o666 & ~current_umask())
    _sync_folder(path.parent)
    return path


def write_text_atomically(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` as UTF-8 with :func:`replace_atomically` (newlines kept as given)."""
    data = text.encode("utf-8")
    return replace_atomically(path, lambda stream: stream.write(data))


def _naming(error: OSError, path: Path) -> OSError:
    """``error`` with ``path`` as its file name (not the temporary file's)."""
    if error.errno is None or error.filename == str(path):
        return error
    # OSError(errno, ...) builds the matching subclass (PermissionError ...)
    return OSError(error.errno, error.strerror or os.strerror(error.errno), str(path))


def _sync_folder(folder: Path) -> None:
    """Flush the rename to disk where folders can be opened (POSIX); best effort."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)
