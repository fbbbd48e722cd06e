"""Formgrader for this course: rubrics for graders, MathJax served locally, Autograde runs `course grade`.

A Jupyter server extension loaded next to nbgrader's formgrader (nbgrader 0.9.6). Enable both in
the server's configuration (``jupyter_server_config.py`` of the instructor's or the grader
service's server)::

    c.ServerApp.jpserver_extensions = {
        "nbgrader.server_extensions.formgrader": True,
        "course_utils.instructor.formgrader": True,
    }
    # optional (help texts below, or `python -m course_utils.instructor.formgrader`):
    c.CourseFormgrader.course_root = "/srv/courses/dl-workbook"   # where source/ lives
    c.CourseFormgrader.grade_command = ["sudo", "-n", "/usr/local/sbin/course-grade"]

What it changes, and only in Formgrader:

1. **Rubrics next to manually graded answers.** The submission view (``/formgrader/submissions/<id>/``)
   shows, after each manually graded answer, the ``### BEGIN SOLUTION`` ... ``### END SOLUTION``
   region of the cell with the same grade id in ``source/<assignment>/<notebook>.ipynb`` (the model
   answer and its rubric), in a block labelled "Graders only". nbgrader strips that region at
   release, so students never had it; this extension adds it to the HTML a grader's browser gets and
   nowhere else: its exporter is a separate instance used by this route only (feedback, which
   nbgrader renders with its own exporter, is untouched) and its step acts only on the resources
   of Formgrader's submission view (``submission_id``, ``assignment_id``, ``notebook_id``).
   Student-written HTML in that view is sanitized (a script in an answer would otherwise run with
   the grader's session).
2. **Maths offline.** The submission view loads MathJax from the server itself: the URL that the
   ``jupyter_server_mathjax`` extension publishes (tornado setting ``mathjax_url``, installed with
   PyPI ``jupyter-server-mathjax``), or, when that extension is not enabled, the same files served
   by this extension under ``<base_url>/formgrader/course/mathjax/``. nbgrader's template asks the
   CDN otherwise.
3. **Autograde runs the project grader.** ``POST /formgrader/api/submission/<assignment>/<student>/autograde``
   (Formgrader's Autograde button) runs ``<grade_command> <assignment> --students <student> --force``
   in the course root, in a subprocess (the server keeps serving), one grading at a time, instead
   of nbgrader's in-process ``autograde``; it answers the same JSON (``success``, ``log``, ``error``).
   This extension's handler for that route is registered ahead of nbgrader's, whatever the order
   in which the server loads the two extensions.

``course grade`` writes ``autograded/<student>/<assignment>/`` as nbgrader does, so the submission
list and view show the project grader's run.
"""

import asyncio
import contextlib
import json
import os
import re
import signal
import sys
from pathlib import Path

import jinja2
from jupyter_server.utils import url_path_join
from nbconvert.preprocessors import Preprocessor
from tornado import web
from traitlets import Bool, Float, List, Unicode
from traitlets.config import Configurable

STATIC_ROUTE = "/formgrader/course/mathjax/(.*)"
RUBRIC_CLASS = "course-graders-only"
LABEL = "Graders only: model answer and rubric"
# Ids from the URL become command-line arguments: never an option, a path or anything odd.
SAFE_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@+-]*\Z")


class CourseFormgrader(Configurable):
    """Settings of this course's Formgrader extension (``c.CourseFormgrader.<name>`` in the server's config)."""

    course_root = Unicode(
        "",
        help="Course folder holding source/<assignment>/*.ipynb (rubrics) and where the grade command runs. "
        "Empty: nbgrader's course root (CourseDirectory.root, as Formgrader sees it).",
    ).tag(config=True)

    grade_command = List(
        Unicode(),
        default_value=[sys.executable, "-m", "course_utils.grading.cli", "grade"],
        help="Command run by Formgrader's Autograde button, followed by '<assignment> --students <student> "
        "--force', in the course root. It must grade like `course grade`, which needs root for its sandbox: "
        "where Formgrader runs as an unprivileged account, point this at a root wrapper (e.g. "
        "['sudo', '-n', '/usr/local/sbin/course-grade']).",
    ).tag(config=True)

    grade_timeout = Float(
        3600.0,
        help="Seconds one Autograde run may take before it is stopped and reported as failed.",
    ).tag(config=True)

    show_rubrics = Bool(
        True,
        help="Show each manually graded answer's model answer and rubric (from source/) in the submission view.",
    ).tag(config=True)


def solution_region(source, begin="BEGIN SOLUTION", end="END SOLUTION"):
    """The text between the solution delimiters of a source cell (all of it when it has none).

    The same rule as nbgrader's ClearSolutions: a line containing ``begin`` opens the region, a line
    containing ``end`` closes it; a solution cell without delimiters is a solution as a whole.
    """
    lines, inside, found = [], False, False
    for line in source.splitlines():
        if begin in line:
            inside = found = True
        elif end in line:
            inside = False
        elif inside:
            lines.append(line)
    return "\n".join(lines).strip("\n") if found else source.strip("\n")


def manual_answers(source_notebook):
    """grade_id -> source cell of every manually graded answer (nbgrader grade and solution)."""
    found = {}
    for cell in json.loads(Path(source_notebook).read_text())["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and meta.get("solution") and meta.get("grade_id"):
            source = cell["source"]
            found[meta["grade_id"]] = dict(cell, source="".join(source) if isinstance(source, list) else source)
    return found


def rubric_markdown(cell, relative_path, begin="BEGIN SOLUTION", end="END SOLUTION"):
    """The markdown of the graders-only block for one source cell."""
    region = solution_region(cell["source"], begin, end)
    if cell["cell_type"] == "code":
        region = f"```python\n{region}\n```"
    return (
        f'<div class="{RUBRIC_CLASS}">\n'
        f'<p class="{RUBRIC_CLASS}-label">{LABEL} (from <code>{relative_path}</code>; '
        f"students do not see this)</p>\n\n{region}\n\n</div>"
    )


class RubricForGraders(Preprocessor):
    """After each manually graded answer, a block with the source's model answer and rubric.

    Acts only on Formgrader's submission view (its resources name ``submission_id``,
    ``assignment_id`` and ``notebook_id``); any other conversion passes through unchanged.
    """

    course_root = Unicode("").tag(config=False)
    source_directory = Unicode("source").tag(config=False)
    begin = Unicode("BEGIN SOLUTION").tag(config=False)
    end = Unicode("END SOLUTION").tag(config=False)

    def preprocess(self, nb, resources):
        names = [resources.get(k) for k in ("submission_id", "assignment_id", "notebook_id")]
        if not all(names) or not self.course_root:
            return nb, resources
        _, assignment, notebook = names
        if any("/" in name or "\\" in name or name in (".", "..") for name in (assignment, notebook)):
            return nb, resources
        relative = Path(self.source_directory) / assignment / f"{notebook}.ipynb"
        path = Path(self.course_root) / relative
        if not path.is_file():
            self.log.warning("no source notebook %s: rubrics not shown", path)
            return nb, resources
        sources = manual_answers(path)
        from nbformat.v4 import new_markdown_cell

        cells = []
        for cell in nb.cells:
            cells.append(cell)
            grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if grade_id in sources:
                cells.append(new_markdown_cell(rubric_markdown(sources[grade_id], relative, self.begin, self.end)))
        nb.cells = cells
        return nb, resources


# What rendered markdown keeps in the submission view: formatting, tables, links and images, no
# scripts, styles, forms, frames or event attributes (nbconvert's own clean_html drops even <p>).
ALLOWED_TAGS = {
    *"a abbr b blockquote br code dd del div dl dt em h1 h2 h3 h4 h5 h6 hr i img kbd li ol p pre s span".split(),
    *"strong sub sup table tbody td th thead tr u ul".split(),
}
ALLOWED_ATTRIBUTES = {"*": ["class", "id", "title"], "a": ["href"], "img": ["src", "alt", "width", "height"]}


def clean_student_html(html):
    """Student-written HTML made inert for a grader's browser (a jinja filter of the submission view)."""
    import bleach

    return bleach.clean(
        str(html),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        protocols=["http", "https", "mailto", "data"],
        strip=True,
        strip_comments=True,
    )


# outputs wrap instead of being cut (shared with the feedback template; .j2: installed as package data)
WRAP_CSS = Path(__file__).parent / "templates" / "course_feedback" / "wrap_messages.css.j2"

# nbgrader's formgrade template with MathJax from the server (nbgrader's calls mathjax() with nbconvert's
# CDN default), the graders-only block's style, and markdown cells sanitized like nbconvert's own
# templates do with sanitize_html (nbgrader's markdown block does not): a student's <script> stays text.
FORMGRADE_TEMPLATE = """{%- extends 'index.html.j2' -%}
{% from 'formgrade_macros.html.j2' import header %}
{%- block header -%}
<!DOCTYPE html>
<html>
<head>
{{ header(resources) }}
{% for css in resources.inlining.css -%}
    <style type="text/css">
    {{ css }}
    </style>
{% endfor %}
{{ mathjax(resources.mathjax_url) }}
<link rel="stylesheet" href="{{ resources.base_url }}/formgrader/static/css/formgrade.css" />
<style type="text/css">
.CLASS { border: 2px dashed #b35900; background: #fff8ee; margin: 0.5em 0 1.5em; padding: 0.5em 1em; }
.CLASS-label { color: #b35900; font-weight: bold; }
WRAP_CSS
</style>
</head>
{%- endblock header -%}

{% block markdowncell scoped %}
<div class="cell border-box-sizing text_cell rendered">
  {{ self.empty_in_prompt() }}
  {%- set html_value = cell.source | markdown2html | strip_files_prefix | course_clean_html -%}
  {%- if 'nbgrader' in cell.metadata and (cell.metadata.nbgrader.solution or cell.metadata.nbgrader.grade
      or cell.metadata.nbgrader.task) -%}
  <div class="panel panel-primary nbgrader_cell">
    {{ nbgrader_heading(cell) }}
    <div class="panel-body">
      <div class="text_cell_render border-box-sizing rendered_html">{{ html_value }}</div>
    </div>
    {{ nbgrader_footer(cell) }}
  </div>
  {%- else -%}
  <div class="inner_cell">
    <div class="text_cell_render border-box-sizing rendered_html">{{ html_value }}</div>
  </div>
  {%- endif -%}
</div>
{% endblock markdowncell %}
""".replace("CLASS", RUBRIC_CLASS).replace("WRAP_CSS", WRAP_CSS.read_text())


def _handlers():
    """Tornado handler classes (defined here so importing this module does not import nbgrader)."""
    from nbconvert.exporters import HTMLExporter
    from nbgrader.server_extensions.formgrader.apihandlers import AutogradeHandler
    from nbgrader.server_extensions.formgrader.base import check_notebook_dir, check_xsrf
    from nbgrader.server_extensions.formgrader.handlers import SubmissionHandler

    class Submission(SubmissionHandler):
        @property
        def exporter(self):
            if "course_formgrader_exporter" not in self.settings:
                self.settings["course_formgrader_exporter"] = _build_exporter(self.settings, HTMLExporter)
            exporter, step = self.settings["course_formgrader_exporter"]
            exporter.mathjax_url = _mathjax_url(self.settings)
            # Formgrader can switch courses (?path=): the rubrics follow nbgrader's course root
            step.course_root = str(_course_root(self.settings))
            step.source_directory = self.coursedir.source_directory
            return exporter

    class Autograde(AutogradeHandler):
        @web.authenticated
        @check_xsrf
        @check_notebook_dir
        async def post(self, assignment_id, student_id):
            self.write(json.dumps(await run_grader(self.settings, assignment_id, student_id)))

    return Submission, Autograde


def _settings_of(settings):
    return settings["course_formgrader"]


def _course_root(settings):
    root = _settings_of(settings).course_root
    return root or settings["nbgrader_formgrader"].coursedir.root


def _build_exporter(settings, HTMLExporter):
    """(exporter, rubric step): nbgrader's formgrade exporter's config, our template, the rubric step."""
    config = settings["nbgrader_exporter"].config
    exporter = HTMLExporter(
        config=config,
        extra_loaders=[jinja2.DictLoader({"course_formgrade.html.j2": FORMGRADE_TEMPLATE})],
        template_file="course_formgrade.html.j2",
        filters={"course_clean_html": clean_student_html},
        sanitize_html=True,  # outputs: nbconvert's classic template cleans them
    )
    clear = config.get("ClearSolutions", {})
    step = RubricForGraders(
        begin=clear.get("begin_solution_delimeter", "BEGIN SOLUTION"),
        end=clear.get("end_solution_delimeter", "END SOLUTION"),
    )
    exporter.register_preprocessor(step, enabled=_settings_of(settings).show_rubrics)
    return exporter, step


def _mathjax_url(settings):
    """jupyter_server_mathjax's URL when it is enabled (and local), else this extension's copy."""
    url = settings.get("mathjax_url", "")
    config = settings.get("mathjax_config", "TeX-AMS-MML_HTMLorMML-full,Safe")
    if not url or "://" in url or url.startswith("//"):
        url = url_path_join(settings.get("base_url", "/"), "formgrader/course/mathjax/MathJax.js")
    return f"{url}?config={config}"


async def _stop(process, grace=30):
    """SIGTERM to the command's process group (a sudo wrapper relays it), SIGKILL after ``grace`` seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(OSError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(process.wait(), grace)
            return


async def run_grader(settings, assignment, student):
    """Run the grade command for one student; nbgrader's JSON answer: success, log, error."""
    if not (SAFE_ID.match(assignment) and SAFE_ID.match(student)):
        return {
            "success": False,
            "log": "",
            "error": f"refused: unusual assignment or student id {assignment!r}, {student!r}",
        }
    options = _settings_of(settings)
    root = Path(_course_root(settings))
    command = [*options.grade_command, assignment, "--students", student, "--force"]
    shown = " ".join(command)
    lock = settings.setdefault("course_formgrader_lock", asyncio.Lock())  # one grading run at a time
    async with lock:
        try:
            process = await asyncio.create_subprocess_exec(
                *command,
                cwd=root,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            return {"success": False, "log": "", "error": f"could not start `{shown}`: {exc}"}
        try:
            output, _ = await asyncio.wait_for(process.communicate(), options.grade_timeout)
        except asyncio.TimeoutError:
            await _stop(process)
            return {
                "success": False,
                "log": "",
                "error": f"`{shown}` was stopped after {options.grade_timeout:g} s (CourseFormgrader.grade_timeout)",
            }
    log = output.decode(errors="replace")
    if process.returncode != 0:
        return {
            "success": False,
            "log": log,
            "error": f"`{shown}` (in {root}) exited with status {process.returncode}:\n{log[-3000:]}",
        }
    failed = re.search(rf"^\s*{re.escape(student)}: failed.*$", log, re.MULTILINE)
    if failed:
        return {
            "success": False,
            "log": log,
            "error": f"the grader could not grade {student}: {failed.group(0).strip()}",
        }
    return {"success": True, "log": f"$ {shown}\n{log}"}


def _jupyter_server_extension_points():
    return [{"module": "course_utils.instructor.formgrader"}]


def _load_jupyter_server_extension(serverapp):
    """Register the submission view, the Autograde API and the MathJax fallback ahead of nbgrader's."""
    webapp = serverapp.web_app
    webapp.settings["course_formgrader"] = CourseFormgrader(parent=serverapp)
    Submission, Autograde = _handlers()
    from jupyter_server_mathjax.app import STATIC_ASSETS_PATH

    routes = [
        (r"/formgrader/submissions/([^/]+)/?", Submission),
        (r"/formgrader/api/submission/([^/]+)/([^/]+)/autograde", Autograde),
        (STATIC_ROUTE, web.StaticFileHandler, {"path": str(STATIC_ASSETS_PATH)}),
    ]
    base = webapp.settings["base_url"]
    webapp.add_handlers(".*$", [(url_path_join(base, r[0].lstrip("/")), *r[1:]) for r in routes])
    # Tornado tries host rules in the order they were added (each before its catch-all): move ours
    # first, so they win over nbgrader's same routes whichever extension the server loads first.
    rules = webapp.default_router.rules
    rules.insert(0, rules.pop(-2))
    serverapp.log.info(
        "course formgrader: rubrics for graders, local MathJax, Autograde runs %s",
        " ".join(webapp.settings["course_formgrader"].grade_command),
    )


load_jupyter_server_extension = _load_jupyter_server_extension

if __name__ == "__main__":
    print(CourseFormgrader.class_config_rst_doc())
