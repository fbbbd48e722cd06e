"""Keeps related tests on one pytest-xdist worker under `--dist loadgroup` (see Makefile).

nbval cells of one notebook must run in order in one kernel, and the pipeline tests of one
assignment share one graded course: each notebook file and each assignment is one group.
"""
import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "assignment" in callspec.params and item.get_closest_marker("pipeline"):
            group = f"pipeline-{callspec.params['assignment']}"
        else:
            group = str(item.path)
        item.add_marker(pytest.mark.xdist_group(group))
