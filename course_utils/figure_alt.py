"""Alt text for every matplotlib figure a notebook shows.

Why: a figure reaches the notebook, and the HTML feedback, as an ``<img>`` with no
description, so a student who uses a screen reader hears nothing useful ("No description
has been provided for this image"). The figure already says what it shows: its titles,
axis labels and legend. ``describe(fig)`` turns those into one short sentence, e.g.
``Figure: Training curves. Panel 1: loss (x: epoch, y: loss; legend: train, validation).``

``install()`` makes the running IPython add that sentence to each displayed figure as the
image's ``alt`` metadata (``{"image/png": {"alt": ...}}``), which nbconvert writes into the
``<img>``. It wraps the shell's ``display_formatter.format`` rather than matplotlib's PNG
formatter, which matplotlib-inline registers again whenever the backend is (re)configured.
Outside IPython (plain Python, the grader's sandbox before its shell exists) it does nothing.
The image itself is never changed: only metadata is added.
"""

import sys

MAX_CHARS = 300  # a screen reader reads it all: keep it a sentence, not a page
MAX_LEGEND = 4  # legend entries named per panel


def _clean(text):
    return " ".join(str(text).replace("$", "").split())


def _panel(ax):
    """'title (x: ..., y: ...; legend: a, b)' for one axes ('a plot (...)' untitled); '' when it has no text."""
    title = ", ".join(t for t in (_clean(ax.get_title(loc)) for loc in ("center", "left", "right")) if t)
    labels = (("x", _clean(ax.get_xlabel())), ("y", _clean(ax.get_ylabel())))
    details = ", ".join(f"{name}: {label}" for name, label in labels if label)
    legend = ax.get_legend()
    entries = [_clean(t.get_text()) for t in legend.get_texts()] if legend else []
    entries = [e for e in entries if e]
    if entries:
        named = ", ".join(entries[:MAX_LEGEND]) + (", ..." if len(entries) > MAX_LEGEND else "")
        details += ("; " if details else "") + f"legend: {named}"
    if details:
        return f"{title or ('an image' if ax.images else 'a plot')} ({details})"
    return title


def describe(fig):
    """One sentence saying what ``fig`` shows, from its suptitle and its panels' texts (capped)."""
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    texts = [_panel(ax) for ax in panels]
    suptitle = fig.get_suptitle() if hasattr(fig, "get_suptitle") else ""
    if _clean(suptitle):
        head = f"Figure: {_clean(suptitle)}."
    elif len(panels) == 1 and texts[0]:
        head = "Figure:"
    else:
        head = f"Figure with {len(panels)} panel{'s' if len(panels) != 1 else ''}."
    if len(panels) == 1:
        body = [f"{texts[0]}."] if texts[0] else []
    else:
        body = [f"Panel {i}: {text}." for i, text in enumerate(texts, 1) if text]
    alt = " ".join([head, *body])
    return alt if len(alt) <= MAX_CHARS else alt[: MAX_CHARS - 3].rstrip() + "..."


def _with_alt(obj, data, metadata):
    """The display metadata, plus ``alt`` for each image of a matplotlib figure."""
    figure = sys.modules.get("matplotlib.figure")  # not imported: obj cannot be a Figure
    if figure is None or not isinstance(obj, figure.Figure):
        return metadata
    try:
        alt = describe(obj)
    except Exception:  # a description must never cost the student their figure
        alt = "Figure"
    for mime in data:
        if mime.startswith("image/"):
            own = metadata.get(mime)
            metadata[mime] = {"alt": alt, **(own if isinstance(own, dict) else {})}
    return metadata


def install(shell=None):
    """Make ``shell`` (default: the running IPython, if any) add alt text to displayed figures."""
    if shell is None:
        ipython = sys.modules.get("IPython")  # not imported: no IPython is running
        shell = ipython.get_ipython() if ipython else None
    if shell is None or getattr(shell.display_formatter.format, "adds_alt", False):
        return

    plain = shell.display_formatter.format

    def format(obj, include=None, exclude=None):
        data, metadata = plain(obj, include=include, exclude=exclude)
        return data, _with_alt(obj, data, metadata)

    format.adds_alt = True
    shell.display_formatter.format = format
