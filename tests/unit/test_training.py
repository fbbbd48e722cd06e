"""Tests of course_utils.training: grading budgets, progress bars, curve plots."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from course_utils import training


@pytest.fixture(autouse=True)
def not_grading(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    yield
    plt.close("all")


FULL = {"epochs": 20, "n_train": 60000}
SHORT = {"epochs": 1, "n_train": 2000}


def test_budget_full_outside_grading(capsys):
    assert training.budget(FULL, SHORT) is FULL
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("mode", ["autograde", "validate"])
def test_budget_short_while_grading(capsys, monkeypatch, mode):
    monkeypatch.setenv("NBGRADER_EXECUTION", mode)
    assert training.budget(FULL, SHORT, what="the MLP") is SHORT
    captured = capsys.readouterr()
    assert captured.out.startswith(f"GRADING MODE (NBGRADER_EXECUTION={mode}): the MLP")
    assert str(SHORT) in captured.out and str(FULL) in captured.out
    assert captured.err == ""


def test_budget_empty_env_is_not_grading(monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "")
    assert training.budget(5, 1) == 5


def test_progress_iterates_all_items():
    items = [3, 1, 4, 1, 5, 9, 2, 6]
    assert list(training.progress(items, desc="epochs")) == items
    assert list(training.progress(iter(range(7)), total=7)) == list(range(7))
    assert list(training.progress(x * x for x in range(4))) == [0, 1, 4, 9]


def test_progress_while_grading_writes_nothing_to_stderr(capsys, monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert list(training.progress(range(50), desc="epochs")) == list(range(50))
    captured = capsys.readouterr()
    assert captured.err == ""  # nbgrader scores stderr in a cell as an error
    assert "epochs" in captured.out and "50/50" in captured.out


def test_plot_curves_one_line_per_curve():
    curves = {"train": [0.9, 0.5, 0.3], "validation": [1.0, 0.7, 0.6]}
    ax = training.plot_curves(curves, ylabel="loss", title="MLP")
    assert isinstance(ax, matplotlib.axes.Axes)
    lines = ax.get_lines()
    assert len(lines) == 2
    assert [line.get_label() for line in lines] == ["train", "validation"]
    for line, values in zip(lines, curves.values()):
        np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3])  # steps counted from 1
        np.testing.assert_array_equal(line.get_ydata(), values)
        assert line.get_marker() == "o"  # fewer than 30 points get markers
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss" and ax.get_title() == "MLP"
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["train", "validation"]


def test_plot_curves_long_curves_and_given_axes():
    fig, ax = plt.subplots()
    curves = {"a": list(np.linspace(1, 0, 50)), "b": list(range(40)), "c": [2.0]}
    out = training.plot_curves(curves, xlabel="step", ax=ax)
    assert out is ax
    lines = ax.get_lines()
    assert len(lines) == 3
    assert len(lines[0].get_xdata()) == 50 and lines[0].get_xdata()[-1] == 50
    assert lines[0].get_marker() in (None, "None", "")  # long curves: no markers
    assert lines[2].get_marker() == "o"
    assert ax.get_xlabel() == "step"


def test_plot_curves_empty_dict_still_returns_axes():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # legend() without handles warns
        ax = training.plot_curves({})
    assert len(ax.get_lines()) == 0
