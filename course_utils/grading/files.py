"""Reading what students submitted as plain files, and nothing else.

A submission folder is student-made: any name in it may be a symlink (to ``source/`` or to
``/dev/zero``), a hard link to a file elsewhere, a FIFO that blocks its reader, a device, or
a file too large to hold. Everything the grader reads from ``submitted/`` goes through
``read_submitted``, which opens each path component relative to the course folder with
``O_NOFOLLOW`` (so no component may be a symlink), ``O_NONBLOCK`` (a FIFO cannot block),
then checks on the open descriptor that it is a regular file with one link and at most
``max_bytes`` bytes, and reads at most that many.

    read_submitted(root, "submitted/alice/ps1/nb.ipynb", max_bytes) -> bytes
        (FileNotFoundError when it does not exist, NotAPlainFile when it is not a plain file)
    submitted_files(root, student, assignment) -> [relative paths of regular files]
"""

import os
import stat
from pathlib import Path


class NotAPlainFile(ValueError):
    """A submitted path that is not a regular file the grader may read; the message says why."""


_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


def _open_below(root, relative):
    """A descriptor of ``root/relative`` opened without following any symlink on the way."""
    parts = Path(relative).parts
    if not parts or any(p in ("..", "/") for p in parts):
        raise NotAPlainFile(f"{relative}: not a path inside the course folder")
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in parts[:-1]:
            try:
                next_fd = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            except FileNotFoundError:
                raise
            except OSError as exc:
                raise NotAPlainFile(f"{relative}: {part!r} is not a plain folder ({exc.strerror})") from None
            os.close(fd)
            fd = next_fd
        try:
            return os.open(parts[-1], _FLAGS, dir_fd=fd)
        except FileNotFoundError:
            raise
        except OSError as exc:
            why = "a symbolic link" if exc.errno == 40 else exc.strerror  # ELOOP: O_NOFOLLOW on a link
            raise NotAPlainFile(f"{relative}: cannot be read as a plain file ({why})") from None
    finally:
        os.close(fd)


def read_submitted(root, relative, max_bytes):
    """The bytes of the regular file ``root/relative`` (see module docstring)."""
    fd = _open_below(root, relative)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotAPlainFile(f"{relative}: not a regular file (a device, FIFO, socket or folder)")
        if info.st_nlink != 1:
            raise NotAPlainFile(f"{relative}: a hard link to another file ({info.st_nlink} names)")
        if info.st_size > max_bytes:
            raise NotAPlainFile(f"{relative}: larger than {max_bytes // 2**20} MB")
        chunks, size = [], 0
        while size <= max_bytes and (chunk := os.read(fd, min(1 << 20, max_bytes + 1 - size))):
            chunks.append(chunk)
            size += len(chunk)
        if size > max_bytes:
            raise NotAPlainFile(f"{relative}: larger than {max_bytes // 2**20} MB")
        return b"".join(chunks)
    finally:
        os.close(fd)


MAX_DEPTH = 8  # folders below submitted/<student>/<assignment> that are looked into
MAX_ENTRIES = 10_000  # names listed at most (a flood of files is not walked to the end)


def submitted_files(root, student, assignment):
    """Relative paths of the regular files in submitted/<student>/<assignment>, sorted.

    Iterative and bounded (``MAX_DEPTH`` folders deep, ``MAX_ENTRIES`` names): links, special
    files and whatever lies deeper are left out, so no folder a student makes can stall this.
    """
    folder = Path(root) / "submitted" / student / assignment
    if folder.is_symlink() or folder.parent.is_symlink() or not folder.is_dir():
        return []
    found, pending, seen = [], [(folder, 0)], 0
    while pending and seen < MAX_ENTRIES:
        current, depth = pending.pop()
        try:
            entries = sorted(os.scandir(current), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries[: MAX_ENTRIES - seen]:
            seen += 1
            if entry.is_dir(follow_symlinks=False) and depth < MAX_DEPTH:
                pending.append((Path(entry.path), depth + 1))
            elif entry.is_file(follow_symlinks=False):
                found.append(str(Path(entry.path).relative_to(root)))
    return sorted(found)
