"""grading.files: submitted notebooks are read as plain files only."""

import os

import pytest

from course_utils.grading.files import NotAPlainFile, read_submitted, submitted_files


@pytest.fixture
def course(tmp_path):
    (tmp_path / "source").mkdir()
    (tmp_path / "source" / "nb.ipynb").write_text("instructor's solutions")
    (tmp_path / "submitted" / "alice" / "ps1").mkdir(parents=True)
    return tmp_path


def test_a_regular_file_is_read(course):
    (course / "submitted/alice/ps1/nb.ipynb").write_text("answers")
    assert read_submitted(course, "submitted/alice/ps1/nb.ipynb", 100) == b"answers"
    assert submitted_files(course, "alice", "ps1") == ["submitted/alice/ps1/nb.ipynb"]


@pytest.mark.parametrize(
    "make, why",
    [
        (lambda c, p: p.symlink_to(c / "source/nb.ipynb"), "symbolic link"),
        (lambda c, p: p.symlink_to("/dev/zero"), "symbolic link"),
        (lambda c, p: os.mkfifo(p), "not a regular file"),
        (lambda c, p: os.link(c / "source/nb.ipynb", p), "hard link"),
        (lambda c, p: p.write_bytes(b"x" * 101), "larger than"),
    ],
)
def test_links_fifos_and_big_files_are_refused_without_blocking(course, make, why):
    path = course / "submitted/alice/ps1/nb.ipynb"
    make(course, path)
    with pytest.raises(NotAPlainFile, match=why):
        read_submitted(course, "submitted/alice/ps1/nb.ipynb", 100)


def test_a_symlinked_folder_on_the_way_is_refused(course):
    (course / "submitted" / "mallory").symlink_to(course / "source", target_is_directory=True)
    with pytest.raises(NotAPlainFile, match="not a plain folder"):
        read_submitted(course, "submitted/mallory/nb.ipynb", 100)
    assert submitted_files(course, "mallory", "") == []


def test_a_missing_file_is_missing(course):
    with pytest.raises(FileNotFoundError):
        read_submitted(course, "submitted/alice/ps1/nb.ipynb", 100)


def remove_deep(top):
    """Remove a chain of single folders too deep for shutil.rmtree's recursion (and pytest's)."""
    here = os.getcwd()
    os.chdir(top)
    depth = 0
    try:
        while os.path.isdir("d"):
            os.chdir("d")
            depth += 1
        for name in os.listdir("."):
            os.unlink(name)
        for _ in range(depth):
            os.chdir("..")
            os.rmdir("d")
    finally:
        os.chdir(here)
    os.rmdir(top)


def test_a_deep_or_crowded_folder_is_walked_within_bounds(course):
    from course_utils.grading import files

    here = os.getcwd()
    os.chdir(course / "submitted/alice/ps1")
    try:
        for _ in range(1100):  # deeper than Python's recursion limit (and than PATH_MAX as one path)
            os.mkdir("d")
            os.chdir("d")
        open("notes.txt", "w").close()
    finally:
        os.chdir(here)
    (course / "submitted/alice/ps1/nb.ipynb").write_text("answers")
    try:
        assert submitted_files(course, "alice", "ps1") == ["submitted/alice/ps1/nb.ipynb"]
    finally:
        remove_deep(course / "submitted/alice/ps1/d")
    crowded = course / "submitted/bob/ps1"
    crowded.mkdir(parents=True)
    for i in range(files.MAX_ENTRIES + 5):
        (crowded / f"f{i:05d}").touch()
    assert len(submitted_files(course, "bob", "ps1")) == files.MAX_ENTRIES
