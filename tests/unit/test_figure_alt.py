"""Tests of course_utils.figure_alt: alt text derived from a figure, added to its display metadata."""

import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import nbformat
import pytest
from nbclient import NotebookClient

from course_utils import figure_alt
from course_utils.figure_alt import MAX_CHARS, describe


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_untitled_figures_still_say_how_many_panels():
    assert describe(plt.figure()) == "Figure with 0 panels."
    fig, _ = plt.subplots()
    assert describe(fig) == "Figure with 1 panel."
    fig, _ = plt.subplots(1, 3)
    assert describe(fig) == "Figure with 3 panels."


def test_one_panel_title_labels_and_legend():
    fig, ax = plt.subplots()
    ax.plot([0, 1], label="train")
    ax.plot([1, 0], label="$\\beta$ validation")
    ax.set(title="Likelihood  loss", xlabel="epoch", ylabel="loss")
    ax.legend()
    assert describe(fig) == "Figure: Likelihood loss (x: epoch, y: loss; legend: train, \\beta validation)."


def test_suptitle_and_several_panels_some_without_text():
    fig, (a, b, c) = plt.subplots(1, 3)
    fig.suptitle("Training curves")
    a.set(title="likelihood", xlabel="epoch")
    c.set_ylabel("KL")
    assert describe(fig) == "Figure: Training curves. Panel 1: likelihood (x: epoch). Panel 3: a plot (y: KL)."
    b.set_title("left", loc="left")
    assert "Panel 2: left." in describe(fig)


def test_long_legends_are_cut_and_colorbars_are_not_panels():
    fig, ax = plt.subplots()
    for i in range(6):
        ax.plot([0, i], label=f"run {i}")
    ax.legend()
    fig.colorbar(ax.imshow([[0, 1]]), ax=ax)
    assert describe(fig) == "Figure: an image (legend: run 0, run 1, run 2, run 3, ...)."


def test_length_is_capped():
    fig, axes = plt.subplots(4, 8)
    for i, ax in enumerate(axes.flat):
        ax.set(title=f"digit {i}", xlabel="pixel column", ylabel="pixel row")
    alt = describe(fig)
    assert len(alt) == MAX_CHARS and alt.startswith("Figure with 32 panels. Panel 1: digit 0 (x:")
    assert alt.endswith("...")


def test_install_is_a_no_op_outside_ipython():
    figure_alt.install()  # pytest runs no IPython shell: nothing to wrap, nothing raised
    code = "import sys, course_utils.checks; assert 'IPython' not in sys.modules and 'matplotlib' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_failing_description_still_gives_alt_text(monkeypatch):
    fig, _ = plt.subplots()
    monkeypatch.setattr(figure_alt, "describe", lambda fig: 1 / 0)
    metadata = figure_alt._with_alt(fig, {"image/png": "...", "text/plain": "<Figure>"}, {"image/png": {"width": 3}})
    assert metadata == {"image/png": {"alt": "Figure", "width": 3}}
    assert figure_alt._with_alt(object(), {"image/png": "..."}, {}) == {}


@pytest.mark.parametrize(
    "first_cell",
    [
        "import matplotlib.pyplot as plt\nfrom course_utils.checks import checking",
        "from course_utils.checks import checking\nimport matplotlib.pyplot as plt",
        "from course_utils.checks import checking\nimport matplotlib.pyplot as plt\n"
        "%config InlineBackend.figure_formats = ['retina']\n%matplotlib inline",
    ],
    ids=["pyplot-first", "checks-first", "backend-reconfigured"],
)
def test_a_kernel_adds_the_alt_text_to_displayed_figures(first_cell, tmp_path):
    second = "fig, ax = plt.subplots()\nax.plot([1, 2])\nax.set_title('Loss per epoch')"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(first_cell), nbformat.v4.new_code_cell(second)])
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    (shown,) = [o for o in nb.cells[1].outputs if o.output_type == "display_data"]
    assert "Loss per epoch" in shown.metadata["image/png"]["alt"]
    assert shown.metadata["image/png"]["alt"].startswith("Figure:")
