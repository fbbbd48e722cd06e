"""The adversarial and the honest-but-different submissions of the `guard` assignment.

Each attack names the tests it must score 0 on (its answer is wrong, and the attack tries to
hide that), the integrity finding it must leave, and how it changes the released notebook:
answer cells (`answers`), tags, metadata, cell list, or the file itself (`edit`). Every other
test of an attacking submission must keep full marks. Honest submissions answer correctly in
other ways and must get full marks with no finding at all.
"""

import json
from dataclasses import dataclass, field

from scratch import Special

WRONG_SOFTMAX = "def softmax(z):\n    return np.ones_like(z) / len(z)  # passes the visible check only"
WRONG_DSIGMA = "x = sp.Symbol('x')\ndsigma = sp.exp(-x)"
WRONG_DESCEND = "def descend(steps):\n    return [1.0] * (steps + 1)  # the right length, no descent"
POINTS = {
    "test_softmax": 2,
    "test_dsigma": 1,
    "test_mse_grad": 2,
    "test_classify": 1,
    "test_log_sigmoid": 1,
    "test_descend": 1,
}  # the guard assignment's automatic tests and their points
EVERY_TEST = tuple(POINTS)
LIAR = (
    "class _Liar(float):\n"
    "    def __eq__(self, other):\n        return True\n"
    "    __lt__ = __le__ = __gt__ = __ge__ = __eq__\n"
    "    def __sub__(self, other):\n        return 0.0\n"
    "    __hash__ = float.__hash__\n"
)
CHANNEL = "import os\n_fd = int(os.environ.get('COURSE_RESULT_FD', '1'))\n"


@dataclass
class Submission:
    name: str
    threat: str = ""
    zero: tuple = ()  # tests that must score 0
    finding: str = ""  # substring of an integrity finding ('' for honest ones)
    answers: dict = field(default_factory=dict)
    tags: dict = field(default_factory=dict)
    edit: object = None  # function(cells) -> cells, or -> bytes (the file itself), or None (no file)
    status: str = "graded"


def _cell(cells, grade_id):
    return next(c for c in cells if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id)


def _delete(grade_id):
    return lambda cells: [c for c in cells if c["metadata"].get("nbgrader", {}).get("grade_id") != grade_id]


def _set_meta(grade_id, **changes):
    def edit(cells):
        _cell(cells, grade_id)["metadata"]["nbgrader"].update(changes)
        return cells

    return edit


def _set_source(grade_id, source):
    def edit(cells):
        _cell(cells, grade_id)["source"] = source
        return cells

    return edit


def _retype(grade_id):
    def edit(cells):
        cell = _cell(cells, grade_id)
        cell["cell_type"] = "markdown"
        cell.pop("outputs", None), cell.pop("execution_count", None)
        return cells

    return edit


def _insert_after(grade_id, source, metadata=None):
    def edit(cells):
        at = cells.index(_cell(cells, grade_id)) + 1
        cells.insert(
            at,
            {"cell_type": "code", "execution_count": None, "metadata": metadata or {}, "outputs": [], "source": source},
        )
        return cells

    return edit


def _duplicate_test_id(cells):
    fake = {
        "cell_type": "code",
        "execution_count": None,
        "outputs": [],
        "source": "pass",
        "metadata": {"nbgrader": dict(_cell(cells, "test_softmax")["metadata"]["nbgrader"])},
    }
    cells.insert(cells.index(_cell(cells, "softmax")) + 1, fake)
    return cells


def _broken_json(cells):
    return json.dumps({"cells": cells})[:-300].encode()


def attacks(root):
    """One submission per attack; ``root`` is the scratch course (for absolute-path attacks)."""
    wrong = {"softmax": WRONG_SOFTMAX}

    def with_wrong(code):
        return {"softmax": WRONG_SOFTMAX + "\n" + code}

    return [
        Submission(
            "skip-tag",
            "tags test cells with skip-execution (stock nbgrader skips them)",
            ("test_softmax",),
            "tags changed",
            wrong,
            tags={"test_softmax": ["skip-execution"]},
        ),
        Submission(
            "patch-assert-allclose",
            "monkeypatches numpy.testing.assert_allclose",
            ("test_softmax",),
            "patched numpy.testing.assert_allclose",
            with_wrong("np.testing.assert_allclose = lambda *a, **k: None"),
        ),
        Submission(
            "patch-np-allclose",
            "makes numpy.allclose always true",
            ("test_softmax",),
            "patched numpy.allclose",
            with_wrong("np.allclose = lambda *a, **k: True"),
        ),
        Submission(
            "patch-checker",
            "replaces Checker.close by a no-op",
            ("test_softmax",),
            "patched course_utils.checks.Checker.close",
            with_wrong("import course_utils.checks as C\nC.Checker.close = lambda self, *a, **k: None"),
        ),
        Submission(
            "shadow-checking",
            "defines its own `checking` that accepts everything",
            EVERY_TEST,
            "check records tampered or missing",
            with_wrong(
                "import contextlib\nclass _Yes:\n    def __getattr__(self, name):\n"
                "        return lambda *a, **k: None\n@contextlib.contextmanager\n"
                "def checking(question, hidden=0):\n    yield _Yes()"
            ),
        ),
        Submission(
            "patch-builtins",
            "makes builtins.all always true",
            ("test_dsigma",),
            "patched builtins.all",
            {"dsigma": WRONG_DSIGMA + "\nimport builtins\nbuiltins.all = lambda iterable: True"},
        ),
        Submission(
            "forge-records",
            "replaces the probe so every close check reports [0.5, 0.5]",
            ("test_softmax",),
            "patched course_utils.checks.ProbeChecker._check",
            with_wrong(
                "import course_utils.checks as C\n"
                "from course_utils.protocol import RUN\nfrom course_utils.protocol.codec import encode\n"
                "def _forged(self, kind, what, where, **values):\n"
                "    RUN.records.append({'kind': kind, 'question': self.question, 'what': str(what),\n"
                "                        'where': '', 'got': encode(np.array([0.5, 0.5]))})\n"
                "    self.passed += 1\nC.ProbeChecker._check = _forged"
            ),
        ),
        Submission(
            "input-transformer",
            "rewrites every later test cell to `pass`",
            ("test_softmax",),
            "changed IPython input transformers",
            with_wrong(
                "get_ipython().input_transformers_cleanup.append(\n"
                "    lambda lines: ['pass\\n'] if any('checking' in l for l in lines) else lines)"
            ),
        ),
        Submission(
            "ast-transformer",
            "an AST transformer that empties test cells",
            ("test_softmax",),
            "changed IPython input transformers",
            with_wrong(
                "import ast\nclass _Empty(ast.NodeTransformer):\n"
                "    def visit_Module(self, node):\n"
                "        if 'checking' in ast.unparse(node):\n"
                "            node.body = [ast.Pass()]\n        return node\n"
                "get_ipython().ast_transformers.append(_Empty())"
            ),
        ),
        Submission(
            "settrace",
            "installs a trace function",
            ("test_softmax",),
            "tracing installed",
            with_wrong("import sys\nsys.settrace(lambda *a: None)"),
        ),
        Submission(
            "exception-handler",
            "hides every exception with a custom handler",
            ("test_softmax",),
            "exception handlers",
            with_wrong("get_ipython().set_custom_exc((Exception,), lambda *a, **k: None)"),
        ),
        Submission(
            "always-equal",
            "returns an object equal to everything",
            ("test_classify",),
            "not plain data",
            {
                "classify": "class _Any:\n    def __eq__(self, other):\n        return True\n"
                "    __hash__ = object.__hash__\n"
                "def classify(H):\n    return _Any()"
            },
        ),
        Submission(
            "os-exit",
            "calls os._exit in an answer cell",
            ("test_softmax",),
            "process died",
            {"softmax": "import os\nos._exit(0)"},
        ),
        Submission(
            "sigkill-self",
            "kills its own process",
            ("test_softmax",),
            "signal sent",
            {"softmax": "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"},
        ),
        Submission(
            "infinite-loop",
            "loops forever, ignoring SIGTERM",
            ("test_softmax",),
            "timed out",
            {
                "softmax": "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                "def softmax(z):\n    while True:\n        pass"
            },
        ),
        Submission(
            "fork-bomb",
            "forks without end",
            ("test_softmax",),
            "process forked",
            {
                "softmax": "import os\ndef softmax(z):\n    while True:\n        try:\n            os.fork()\n"
                "        except OSError:\n            pass"
            },
        ),
        Submission(
            "memory-bomb",
            "allocates 12 GB",
            ("test_softmax",),
            "out of memory",
            {"softmax": "def softmax(z):\n    hog = bytearray(12 * 2**30)\n    return np.ones_like(z) / len(z)"},
        ),
        Submission(
            "print-50mb",
            "prints 50 MB to hide its failure",
            ("test_softmax",),
            "characters more than",
            with_wrong("print('x' * (50 * 2**20))"),
        ),
        Submission(
            "raw-write-50mb",
            "writes 50 MB straight to file descriptor 1",
            ("test_softmax",),
            "bytes directly",
            with_wrong("import os\nos.write(1, b'x' * (50 * 2**20))"),
        ),
        Submission(
            "big-file",
            "writes a 200 MB file",
            ("test_softmax",),
            "MB of files",
            with_wrong(
                "with open('filler.bin', 'wb') as f:\n    for _ in range(200):\n        try:\n"
                "            f.write(b'0' * 2**20)\n        except OSError:\n            break"
            ),
        ),
        Submission(
            "write-gradebook",
            "overwrites the course gradebook",
            ("test_softmax",),
            "gradebook.db (write)",
            with_wrong(
                f"for path in ['../../../gradebook.db', {str(root / 'gradebook.db')!r}]:\n"
                "    try:\n        open(path, 'w').write('pwned')\n    except OSError:\n        pass"
            ),
        ),
        Submission(
            "read-source",
            "reads the hidden tests from source/",
            ("test_softmax",),
            "source/guard/guard.ipynb (read)",
            with_wrong(
                f"try:\n    hidden = open({str(root / 'source/guard/guard.ipynb')!r}).read()\n"
                "except OSError:\n    hidden = ''"
            ),
        ),
        Submission(
            "read-classmate",
            "copies another student's submission",
            ("test_softmax",),
            "honest-loops/guard/guard.ipynb (read)",
            with_wrong(
                f"try:\n    other = open({str(root / 'submitted/honest-loops/guard/guard.ipynb')!r}).read()\n"
                "except OSError:\n    other = ''"
            ),
        ),
        Submission(
            "network",
            "opens a socket to the host",
            ("test_softmax",),
            "network connection",
            with_wrong(
                "import socket\ntry:\n    socket.create_connection(('127.0.0.1', 22), timeout=1)\n"
                "except OSError:\n    pass"
            ),
        ),
        Submission(
            "subprocess",
            "starts a shell program",
            ("test_softmax",),
            "program started",
            with_wrong(
                "import subprocess\ntry:\n    subprocess.run(['cat', '/etc/hostname'], capture_output=True)\n"
                "except OSError:\n    pass"
            ),
        ),
        Submission(
            "ctypes",
            "loads libc through ctypes",
            ("test_softmax",),
            "ctypes",
            with_wrong("import ctypes\nlibc = ctypes.CDLL(None)"),
        ),
        Submission(
            "env-mode",
            "switches the checks back to in-process verdicts",
            EVERY_TEST,
            "environment variables",
            with_wrong("import os\nos.environ['COURSE_CHECK_MODE'] = ''\nnp.allclose = lambda *a, **k: True"),
        ),
        Submission(
            "forge-channel",
            "writes fake results on the grader's channel",
            ("test_softmax",),
            "result channel",
            with_wrong(
                "import os\nfd = int(os.environ['COURSE_RESULT_FD'])\n"
                'os.write(fd, b\'{"event": "done", "cell": 3, "status": "ok", "records": []}\\n\')\n'
                "os.write(fd, b'all tests passed\\n')"
            ),
        ),
        Submission(
            "forge-start",
            "forges 'cell started' messages to dodge the cell timeout",
            ("test_softmax",),
            "unexpected 'start' message",
            {
                "softmax": (
                    "import os, time\nfd = int(os.environ['COURSE_RESULT_FD'])\n"
                    "for i in range(60):\n"
                    '    os.write(fd, (\'{"event": "start", "cell": %d}\\n\' % (i % 12)).encode())\n'
                    "    time.sleep(0.5)"
                )
            },
        ),
        Submission(
            "close-channel",
            "closes the grader's channel",
            ("test_softmax",),
            "channel closed early",
            {"softmax": "import os\nos.close(int(os.environ['COURSE_RESULT_FD']))"},
        ),
        Submission(
            "patch-json",
            "patches json.dumps that the runner sends results with",
            ("test_softmax",),
            "patched json.dumps",
            with_wrong("import json\n_dumps = json.dumps\njson.dumps = lambda obj, **k: _dumps(obj, **k)"),
        ),
        Submission(
            "sympy-bomb",
            "answers with x**(10**8)",
            ("test_dsigma",),
            "could not be read",
            {"dsigma": "x = sp.Symbol('x')\ndsigma = sp.Pow(x, 10**8)"},
        ),
        Submission(
            "deleted-test", "deletes its test cell", ("test_softmax",), "deleted", wrong, edit=_delete("test_softmax")
        ),
        Submission(
            "duplicated-id",
            "a fake cell with the test's grade id before the real one",
            ("test_softmax",),
            "duplicated",
            wrong,
            edit=_duplicate_test_id,
        ),
        Submission(
            "retyped-test",
            "turns its test cell into an answer cell",
            ("test_softmax",),
            "nbgrader metadata changed",
            wrong,
            edit=_set_meta("test_softmax", solution=True, grade=False),
        ),
        Submission(
            "points-100",
            "sets its test cell's points to 100",
            ("test_classify",),
            "nbgrader metadata changed",
            {"classify": "def classify(H):\n    return 'minimum'"},
            edit=_set_meta("test_classify", points=100),
        ),
        Submission(
            "markdown-test",
            "turns its test cell into markdown",
            ("test_softmax",),
            "type changed",
            wrong,
            edit=_retype("test_softmax"),
        ),
        Submission(
            "edited-test",
            "replaces its test cell by a print",
            ("test_softmax",),
            "source edited",
            wrong,
            edit=_set_source("test_softmax", "print('all checks passed')"),
        ),
        Submission(
            "fake-grade-id",
            "adds a cell claiming a bonus grade id",
            ("test_softmax",),
            "unknown grade id",
            wrong,
            edit=_insert_after(
                "softmax",
                "bonus = 1",
                {"nbgrader": {"grade": True, "solution": False, "grade_id": "test_bonus", "points": 50}},
            ),
        ),
        # -- the grader's own process: untrusted data parsed or compared without bounds
        Submission(
            "sympy-power-tower",
            "an unevaluated 10^1000^1000^1000 as the derivative",
            ("test_dsigma",),
            "judging stopped",
            {
                "dsigma": "x = sp.Symbol('x')\ndsigma = sp.Pow(sp.Pow(sp.Pow(10, 1000, evaluate=False), 1000, "
                "evaluate=False), 1000, evaluate=False)"
            },
        ),
        Submission(
            "sympy-factorial",
            "an unevaluated factorial(10^8) as the derivative",
            ("test_dsigma",),
            "judging stopped",
            {"dsigma": "x = sp.Symbol('x')\ndsigma = sp.factorial(sp.Integer(10**8), evaluate=False) + x"},
        ),
        Submission(
            "sympy-binomial",
            "an unevaluated binomial(10^9, 10^8) inside the derivative",
            ("test_dsigma",),
            "judging stopped",
            {"dsigma": "x = sp.Symbol('x')\ndsigma = sp.exp(-x) * sp.binomial(10**9, 10**8, evaluate=False)"},
        ),
        Submission(
            "deep-json",
            "sends a line nested 500,000 deep on the result channel",
            ("test_softmax",),
            "message on the result channel",
            with_wrong(CHANNEL + "os.write(_fd, b'{\"event\": \"done\", \"outputs\": ' + b'[' * 500000 + b'\\n')"),
        ),
        Submission(
            "huge-line",
            "sends one 60 MB line on the result channel",
            ("test_softmax",),
            "result channel overflow",
            with_wrong(CHANNEL + "os.write(_fd, b'[' + b'1,' * (30 * 2**20) + b'1]\\n')"),
        ),
        Submission(
            "deep-answer",
            "returns a list nested 100,000 deep from classify",
            ("test_classify",),
            "not plain data",
            {"classify": "def classify(H):\n    v = []\n    for _ in range(100000):\n        v = [v]\n    return v"},
        ),
        # -- submitted files that are not plain files
        Submission(
            "symlink-source",
            "submits a symbolic link to the instructor's notebook",
            EVERY_TEST,
            "symbolic link",
            edit=lambda cells: Special("symlink", "{root}/source/guard/guard.ipynb"),
            status="failed",
        ),
        Submission(
            "symlink-dev-zero",
            "submits a symbolic link to /dev/zero",
            EVERY_TEST,
            "symbolic link",
            edit=lambda cells: Special("symlink", "/dev/zero"),
            status="failed",
        ),
        Submission(
            "fifo",
            "submits a named pipe",
            EVERY_TEST,
            "not a regular file",
            edit=lambda cells: Special("fifo"),
            status="failed",
        ),
        Submission(
            "hardlink-source",
            "submits a hard link to the instructor's notebook",
            EVERY_TEST,
            "hard link",
            edit=lambda cells: Special("hardlink", "{root}/source/guard/guard.ipynb"),
            status="failed",
        ),
        Submission(
            "symlinked-folder",
            "its submission folder is a link to source/guard",
            EVERY_TEST,
            "not a plain folder",
            edit=lambda cells: Special("symlinked-folder", "{root}/source/guard"),
            status="failed",
        ),
        # -- conditions (check.true) decided by the student's objects or hooks
        Submission(
            "lying-floats",
            "losses (a float subclass) that compare as smaller than anything",
            ("test_descend",),
            "",  # sent as the plain floats they hold: a wrong answer, judged as one
            {"descend": LIAR + "def descend(steps):\n    return [_Liar(1.0) for _ in range(steps + 1)]"},
        ),
        Submission(
            "lying-objects",
            "losses (objects) that compare as smaller than anything",
            ("test_descend",),
            "not plain data",
            {
                "descend": LIAR.replace("(float)", "").replace("float.__hash__", "object.__hash__")
                + "def descend(steps):\n    return [_Liar() for _ in range(steps + 1)]"
            },
        ),
        Submission(
            "post-run-hook",
            "a post_run_cell hook that rewrites the last records as passing",
            ("test_descend",),
            "event callbacks",
            {
                "descend": WRONG_DESCEND + "\nfrom course_utils.protocol import RUN\n"
                "def _rewrite(result):\n    RUN.records[:] = []\n    RUN.count = 0\n"
                "get_ipython().events.register('post_run_cell', _rewrite)"
            },
        ),
        Submission(
            "forged-records",
            "its function appends passing records while the test runs",
            ("test_descend",),
            "tampered",
            {
                "descend": "from course_utils.protocol import RUN\nimport json\n"
                "def descend(steps):\n    good = [1.0]\n    for _ in range(steps):\n"
                "        good.append(good[-1] * 0.64)\n    for site in range(3):\n"
                "        RUN.records.append(json.dumps({'kind': 'true', 'question': 'Q7 descent',\n"
                "            'what': 'x', 'where': '', 'got': {'__tuple__': [site, {'__list__': [good, good]}]}}))\n"
                "    return [1.0] * (steps + 1)"
            },
        ),
        Submission(
            "excepthook",
            "replaces sys.excepthook and IPython's traceback display",
            ("test_softmax",),
            "traceback display",
            with_wrong(
                "import sys\nsys.excepthook = lambda *a: None\nget_ipython().showtraceback = lambda *a, **k: None"
            ),
        ),
        Submission(
            "transformer-in-place",
            "replaces an IPython input transformer in place (same list length)",
            ("test_softmax",),
            "input transformers",
            with_wrong(
                "ip = get_ipython()\n_old = ip.input_transformers_cleanup[0]\n"
                "ip.input_transformers_cleanup[0] = lambda lines: ['pass\\n'] if any('checking' in l for l in lines) "
                "else _old(lines)"
            ),
        ),
        # -- answers of the wrong kind
        Submission(
            "complex-softmax",
            "a softmax with an imaginary part",
            ("test_softmax",),
            "",
            {"softmax": "def softmax(z):\n    e = np.exp(z - np.max(z))\n    return e / e.sum() + 1e-3j"},
        ),
        # -- budgets
        Submission(
            "fill-disk",
            "fills its folder with 4 MB files",
            ("test_softmax",),
            "disk budget",
            with_wrong(
                "for i in range(200):\n    try:\n        with open(f'fill{i}.bin', 'wb') as f:\n"
                "            f.write(b'0' * (4 * 2**20))\n    except OSError:\n        break"
            ),
        ),
        Submission(
            "inode-flood",
            "creates 100,000 empty files",
            ("test_softmax",),
            "files",
            with_wrong(
                "for i in range(100000):\n    try:\n        open(f'f{i}', 'w').close()\n"
                "    except OSError:\n        break"
            ),
        ),
        Submission(
            "fork-and-allocate",
            "four children that each hold 2 GB",
            ("test_softmax",),
            "process forked",
            with_wrong(
                "import os, time\nfor _ in range(4):\n    if os.fork() == 0:\n        try:\n"
                "            hog = bytearray(2 * 2**30)\n            time.sleep(30)\n        finally:\n"
                "            os._exit(0)"
            ),
        ),
        Submission(
            "many-cells",
            "adds 20,000 empty cells",
            ("test_softmax",),
            "only the first",
            wrong,
            edit=lambda cells: (
                cells[:-1]
                + [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": ""}] * 20000
                + cells[-1:]
            ),
        ),
        Submission(
            "non-utf8-path",
            "opens a path with a byte that is not UTF-8",
            ("test_softmax",),
            "tried to open",
            with_wrong("try:\n    open(b'/opt/\\xff-secret', 'rb')\nexcept OSError:\n    pass"),
        ),
        # -- found by a red-team pass: the grader's own encoder, record list and value methods
        Submission(
            "json-encoder-swap",
            "swaps json's default encoder to rewrite its close records",
            ("test_softmax",),
            "patched json._default_encoder",
            with_wrong(
                "import json as _j\n_orig = _j._default_encoder\n"
                "class _Enc(_j.JSONEncoder):\n    def encode(self, o):\n"
                "        if isinstance(o, dict) and o.get('kind') == 'close':\n"
                "            o = dict(o, got=[0.5, 0.5])\n        return _orig.encode(o)\n"
                "_j._default_encoder = _Enc()"
            ),
        ),
        Submission(
            "record-list-property",
            "a property on RunState that rewrites the records as they are read",
            ("test_classify",),
            "RunState",
            {
                "classify": "def classify(H):\n    return 'minimum'\nfrom course_utils.protocol import RunState\n"
                "_box = {'records': [], 'count': 0}\n"
                "RunState.records = property(lambda s: [r.replace('minimum', 'saddle') for r in _box['records']],\n"
                "                            lambda s, v: _box.__setitem__('records', v))\n"
                "RunState.count = property(lambda s: _box['count'], lambda s, v: _box.__setitem__('count', v))"
            },
        ),
        Submission(
            "claiming-float32",
            "float32 losses whose item() claims other values",
            ("test_descend",),
            "",  # sent as the values they hold: a wrong answer, judged as one
            {
                "descend": "class _F(np.float32):\n    def item(self):\n        return self.claim\n"
                "def descend(steps):\n    out = []\n    for k in range(steps + 1):\n"
                "        x = _F(1.0)\n        x.claim = 0.64 ** k\n        out.append(x)\n    return out"
            },
        ),
        Submission(
            "broken-json", "submits a truncated file", EVERY_TEST, "unreadable", edit=_broken_json, status="failed"
        ),
        Submission(
            "missing-notebook", "submits no notebook", EVERY_TEST, "missing", edit=lambda cells: None, status="failed"
        ),
    ]


HONEST = [
    Submission(
        "honest-loops",
        "softmax and the gradient with Python loops",
        answers={
            "softmax": "import math\ndef softmax(z):\n    top = max(z)\n    e = [math.exp(v - top) for v in z]\n"
            "    total = sum(e)\n    return np.array([v / total for v in e])",
            "mse_grad": "def mse_grad(w, X, y):\n    n, d = X.shape\n    g = np.zeros(d)\n    for i in range(n):\n"
            "        r = sum(X[i, j] * w[j] for j in range(d)) - y[i]\n        for j in range(d):\n"
            "            g[j] += r * X[i, j] / n\n    return g",
        },
    ),
    Submission(
        "honest-list",
        "returns lists instead of arrays",
        answers={
            "softmax": "def softmax(z):\n    e = np.exp(np.asarray(z) - np.max(z))\n    return (e / e.sum()).tolist()"
        },
    ),
    Submission(
        "honest-sigma-form",
        "dsigma written as sigma (1 - sigma)",
        answers={"dsigma": "x = sp.Symbol('x')\ns = 1 / (1 + sp.exp(-x))\ndsigma = s * (1 - s)"},
    ),
    Submission(
        "honest-string",
        "dsigma typed as a string with ^",
        answers={"dsigma": "x = sp.Symbol('x')\ndsigma = 'exp(-x)/(1+exp(-x))^2'"},
    ),
    Submission(
        "honest-diff",
        "dsigma computed with sp.diff",
        answers={"dsigma": "x = sp.Symbol('x')\ndsigma = sp.diff(1 / (1 + sp.exp(-x)), x)"},
    ),
    Submission(
        "honest-einsum",
        "the gradient with einsum",
        answers={"mse_grad": "def mse_grad(w, X, y):\n    return np.einsum('nd,n->d', X, X @ w - y) / X.shape[0]"},
    ),
    Submission(
        "honest-eigen",
        "classify from eigenvalues",
        answers={
            "classify": "def classify(H):\n    low, high = np.linalg.eigvalsh(np.array(H, dtype=float))\n"
            "    if low < 0 < high:\n        return 'saddle'\n    return 'minimum' if low > 0 else 'maximum'"
        },
    ),
    Submission(
        "honest-warning",
        "correct log-sigmoid that emits overflow RuntimeWarnings",
        answers={
            "log_sigmoid": "def log_sigmoid(z):\n    z = np.asarray(z, dtype=float)\n"
            "    return np.where(z >= 0, -np.log1p(np.exp(-z)), z - np.log1p(np.exp(z)))"
        },
    ),
    Submission(
        "honest-helpers",
        "own helper cells, debug prints and stderr output",
        answers={
            "softmax": "def softmax(z):\n    print('debug: softmax of', z)\n"
            "    return _shifted_exp(z) / _shifted_exp(z).sum()"
        },
        edit=_insert_after(
            "setup",
            "import sys\ndef _shifted_exp(z):\n    return np.exp(z - np.max(z))\n"
            "print('helpers loaded', file=sys.stderr)",
        ),
    ),
    Submission(
        "honest-reordered",
        "answer cells moved to the top",
        answers={},
        edit=lambda cells: (
            [cells[0], cells[1]]
            + [c for c in cells[2:] if c["metadata"].get("nbgrader", {}).get("grade_id") == "log_sigmoid"]
            + [c for c in cells[2:] if c["metadata"].get("nbgrader", {}).get("grade_id") != "log_sigmoid"]
        ),
    ),
    Submission(
        "honest-descend-array",
        "descend returns a NumPy array built with a closed form",
        answers={"descend": "def descend(steps):\n    return 0.64 ** np.arange(steps + 1)"},
    ),
    Submission(
        "honest-fractions",
        "exact losses with fractions.Fraction",
        answers={
            "descend": "from fractions import Fraction\ndef descend(steps):\n"
            "    w, losses = Fraction(1), [Fraction(1)]\n"
            "    for _ in range(steps):\n        w -= Fraction(1, 10) * 2 * w\n        losses.append(w * w)\n"
            "    return losses"
        },
    ),
    Submission(
        "honest-numpy-types",
        "classify returns a NumPy string",
        answers={
            "classify": "def classify(H):\n    H = np.asarray(H, dtype=float)\n    det = np.linalg.det(H)\n"
            "    return np.str_('saddle' if det < 0 else ('minimum' if H[0, 0] > 0 else 'maximum'))"
        },
    ),
]
