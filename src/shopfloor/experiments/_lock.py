"""One writer per folder: an advisory lock a dead process cannot hold.

A :class:`FolderLock` takes ``fcntl.flock`` on ``<folder>/.lock`` through a file
descriptor it keeps open until released. The operating system drops the lock when
that descriptor closes, so a process killed with ``kill -9`` leaves the file behind
but not the lock. The file records the holder (process id, host, start time and
command line) so a refused writer can say who is in the way. POSIX only.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
from pathlib import Path
from types import TracebackType

from shopfloor.experiments._folders import command_line, now_iso

LOCK_FILE = ".lock"


class RunLockedError(ValueError):
    """Another live process writes to the folder (the message names it)."""


class FolderLock:
    """An exclusive, non-blocking lock on ``<folder>/.lock`` for the life of a writer.

    Args:
        folder: The folder to guard (created if missing).
        what: How the folder is named in the refusal (``run folder``, ``experiment``).

    Example:
        >>> with FolderLock(run_dir):  # doctest: +SKIP
        ...     train_into(run_dir)
    """

    def __init__(self, folder: str | os.PathLike[str], what: str = "run folder"):
        self.folder = Path(folder)
        self.path = self.folder / LOCK_FILE
        self.what = what
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def acquire(self) -> FolderLock:
        """Take the lock and record this process as its holder.

        Raises:
            RunLockedError: Another open file description holds it (another process,
                or another lock object of this one); the message names the holder.
            OSError: The folder cannot be created or the lock file opened.
        """
        if self._fd is not None:
            return self
        self.folder.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise RunLockedError(
                    f"{self.folder} ({self.what}) is in use by {self.holder()}; wait for "
                    "it to finish or stop that process"
                ) from None
            except BaseException:
                os.close(fd)
                raise
            if self._same_file(fd):
                break
            os.close(fd)  # the file was removed or replaced since we opened it: retry
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": now_iso(),
            "command": command_line(),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(record) + "\n").encode("utf-8"), 0)
        self._fd = fd
        return self

    def release(self, remove: bool = False) -> None:
        """Let go of the lock (``remove``: delete the lock file first)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            if remove:
                self.path.unlink(missing_ok=True)
            else:
                os.ftruncate(fd, 0)
        finally:
            os.close(fd)

    def holder(self) -> str:
        """The recorded holder, for messages (``process 12 on host (cmd) since ...``)."""
        try:
            record = json.loads(self.path.read_text(encoding="utf-8"))
            return (
                f"process {int(record['pid'])} on {record['host']} "
                f"({record['command']}) since {record['since']}"
            )
        except (OSError, ValueError, TypeError, KeyError):
            return "another process (not recorded yet)"

    def _same_file(self, fd: int) -> bool:
        with contextlib.suppress(FileNotFoundError):
            return os.path.samestat(os.fstat(fd), os.stat(self.path))
        return False

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()
