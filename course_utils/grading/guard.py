"""Tripwires inside the sandboxed run: what a cell changed or tried, reported per cell.

These are reports, not verdicts (the oracle does not need them to be right): a student's
code can hide its traces, but an honest notebook never trips them, so a finding is worth
an instructor's look. Two kinds:

- an audit hook (``sys.addaudithook``; it cannot be removed once added) notes attempts to
  open files outside the submission folder and the Python/data installs, network use,
  new processes, signals, tracing and ctypes;
- after each cell, the objects graders and tests rely on are compared with the originals
  (NumPy comparisons, builtins, ``course_utils.checks``, json, IPython's hooks).
"""

import importlib
import os
import sys

from ..protocol import KINDS

WATCHED = [
    "numpy.testing.assert_allclose",
    "numpy.testing.assert_array_equal",
    "numpy.allclose",
    "numpy.isclose",
    "numpy.array_equal",
    "numpy.asarray",
    "numpy.all",
    "sympy.simplify",
    "builtins.print",
    "builtins.abs",
    "builtins.all",
    "builtins.bool",
    "builtins.float",
    "builtins.len",
    "builtins.isinstance",
    "builtins.open",
    "builtins.__import__",
    "builtins.max",
    "builtins.min",
    "json.dumps",
    "os._exit",
    "sys.exit",
    "course_utils.checks.checking",
    "course_utils.checks.Checker",
    "course_utils.checks.ProbeChecker",
    "course_utils.checks.CHECKERS",
    "course_utils.protocol.RUN",
    "course_utils.protocol.record",
    "course_utils.protocol.KINDS",
    "course_utils.gradcheck.check_gradients",
    "course_utils.protocol.codec.encode",
] + [
    f"course_utils.checks.{cls}.{method}"
    for cls in ("Checker", "ProbeChecker")
    for method in ("_check", *(kind.method for kind in KINDS.values()))
]
AUDITED = {
    "socket.connect": "network connection",
    "socket.bind": "network socket bound",
    "socket.getaddrinfo": "network name lookup",
    "os.fork": "process forked",
    "os.forkpty": "process forked",
    "subprocess.Popen": "program started",
    "os.system": "shell command",
    "os.posix_spawn": "program started",
    "os.exec": "program executed",
    "os.kill": "signal sent",
    "os.killpg": "signal sent",
    "ctypes.dlopen": "native library loaded via ctypes",
    "ctypes.call_function": "native function called via ctypes",
    "sys.settrace": "tracing installed",
    "sys.setprofile": "profiler installed",
    "sys.addaudithook": "audit hook added",
}
MAX_FINDINGS = 20


def _resolve(path):
    module, _, attr = path.rpartition(".")
    try:
        obj = importlib.import_module(module) if module in sys.modules or module == "builtins" else None
    except ImportError:
        obj = None
    if obj is None:  # Class.method paths
        head, _, cls = module.rpartition(".")
        obj = getattr(sys.modules.get(head), cls, None)
    return getattr(obj, attr, None)


class Guard:
    """Snapshot of watched objects plus an audit log; ``findings()`` after each cell."""

    def __init__(self, shell, allowed_prefixes, report=None):
        """report: called with each audit finding at once (a cell that then dies keeps its trace)."""
        self.shell, self.allowed = shell, tuple(os.path.realpath(p) for p in allowed_prefixes)
        self.report = report
        self.original = {path: id(_resolve(path)) for path in WATCHED}
        self.hooks = self._hooks()
        self.env = {k: v for k, v in os.environ.items() if k.startswith(("COURSE_", "NBGRADER_"))}
        self.events, self.busy = [], False
        sys.addaudithook(self._audit)

    def _hooks(self):
        s = self.shell
        return (
            len(s.input_transformers_cleanup),
            len(s.input_transformers_post),
            len(s.ast_transformers),
            tuple(s.custom_exceptions),
            sys.gettrace() is None,
            sys.getprofile() is None,
        )

    def _audit(self, event, args):
        if len(self.events) >= MAX_FINDINGS or self.busy:
            return
        self.busy = True  # the report itself may open or write: no recursion
        try:
            finding = self._finding(event, args)
            if finding and finding not in self.events:
                self.events.append(finding)
                if self.report:
                    self.report(finding)
        finally:
            self.busy = False

    def _finding(self, event, args):
        if event == "open" and args and isinstance(args[0], (str, bytes)):
            path = os.path.realpath(os.fsdecode(args[0]))
            if not path.startswith(self.allowed):
                mode = args[1] if len(args) > 1 and isinstance(args[1], str) else "r"
                return f"tried to open {path} ({'write' if set(mode) & set('wax+') else 'read'})"
        elif event in AUDITED:
            detail = f": {str(args[0])[:80]}" if args and event.startswith(("socket", "subprocess", "os.exec")) else ""
            return f"{AUDITED[event]}{detail}"
        return None

    def findings(self):
        """What changed or was tried since the last call (deduplicated)."""
        found, self.events = [] if self.report else list(self.events), []
        for path, identity in self.original.items():
            if id(_resolve(path)) != identity:
                found.append(f"patched {path}")
                self.original[path] = id(_resolve(path))
        hooks = self._hooks()
        if hooks != self.hooks:
            found.append("changed IPython input transformers, exception handlers, tracing or profiling")
            self.hooks = hooks
        env = {k: v for k, v in os.environ.items() if k.startswith(("COURSE_", "NBGRADER_"))}
        if env != self.env:
            found.append("changed the grader's environment variables")
            self.env = env
        return found
