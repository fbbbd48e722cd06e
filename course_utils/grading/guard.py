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
# Whole namespaces the grader's own record-keeping runs through: every name in them is watched
# and put back (a swapped json._default_encoder or a property added to RunState would else lie).
NAMESPACES = [
    "json",
    "json.encoder",
    "json.encoder.JSONEncoder",
    "course_utils.protocol",
    "course_utils.protocol.RunState",
    "course_utils.protocol.codec",
    "course_utils.protocol.judges",
    "course_utils.checks",
    "course_utils.checks.Checker",
    "course_utils.checks.ProbeChecker",
    "course_utils.checks.JudgeChecker",
    "base64",
]
SHELL_METHODS = (
    "run_cell",
    "run_cell_async",
    "run_ast_nodes",
    "run_code",
    "transform_cell",
    "showtraceback",
    "_showtraceback",
    "showsyntaxerror",
    "set_custom_exc",
    "should_run_async",
)
_LIBRARIES = tuple(os.path.realpath(p) + os.sep for p in {sys.prefix, sys.base_prefix})


def _installed_library(args):
    """Is a dlopen'ed path part of the Python install or the system's libraries?"""
    path = os.fsdecode(args[0]) if args and isinstance(args[0], (str, bytes)) else ""
    return bool(path) and os.path.realpath(path).startswith((*_LIBRARIES, "/usr/lib/", "/lib/"))


def _called_by_notebook():
    """Is the nearest caller outside ctypes (and this module) a notebook cell, not library code?"""
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename
        if not (name == __file__ or os.sep + "ctypes" + os.sep in name):
            return not os.path.realpath(name).startswith(_LIBRARIES) if os.path.isabs(name) else True
        frame = frame.f_back
    return True


_MISSING = object()


def _owner(path):
    """(the module or class holding ``path``'s last name, that name)."""
    module, _, attr = path.rpartition(".")
    try:
        obj = importlib.import_module(module) if module in sys.modules or module == "builtins" else None
    except ImportError:
        obj = None
    if obj is None:  # Class.method paths
        head, _, cls = module.rpartition(".")
        obj = getattr(sys.modules.get(head), cls, None)
    return obj, attr


def _resolve(path):
    owner, attr = _owner(path)
    return getattr(owner, attr, None)


class Guard:
    """Snapshot of watched objects plus an audit log; ``findings()`` after each cell."""

    def __init__(self, shell, allowed_prefixes, report=None):
        """report: called with each audit finding at once (a cell that then dies keeps its trace)."""
        self.shell, self.allowed = shell, tuple(os.path.realpath(p) for p in allowed_prefixes)
        self.report = report
        self.pristine = {path: (*_owner(path), _resolve(path)) for path in WATCHED}
        self.original = {path: id(_resolve(path)) for path in WATCHED}
        self.pristine_shell = self._shell_state()
        self.namespaces = {name: sys.modules.get(name) or _resolve(name) for name in NAMESPACES}
        self.pristine_names = {name: dict(vars(obj)) for name, obj in self.namespaces.items() if obj is not None}
        self.names = {name: dict(names) for name, names in self.pristine_names.items()}
        self.hooks = self._hooks()
        self.env = {k: v for k, v in os.environ.items() if k.startswith(("COURSE_", "NBGRADER_"))}
        self.events, self.busy = [], False
        sys.addaudithook(self._audit)

    def _shell_state(self):
        """Copies of what ``restore`` puts back: the shell's hook lists and handlers, sys hooks."""
        s = self.shell
        return {
            "lists": [
                (items, list(items))
                for items in (s.input_transformers_cleanup, s.input_transformers_post, s.ast_transformers)
            ],
            "callbacks": {name: list(calls) for name, calls in s.events.callbacks.items()},
            "custom": (s.custom_exceptions, vars(s).get("CustomTB")),
            "methods": {name: (name in vars(s), getattr(type(s), name, None)) for name in SHELL_METHODS},
            "excepthook": sys.excepthook,
        }

    def restore(self):
        """Put back everything the student's cells may have changed that instructor code relies on.

        Called before each test and locked cell: the instructor's code then runs with the
        original functions, hooks and handlers, whatever an answer cell installed (which was
        reported after that cell).
        """
        self.busy = True  # restoring is not the student's doing: no audit findings
        try:
            self._restore()
        finally:
            self.busy = False
        self.original = {path: id(obj) for path, (_, _, obj) in self.pristine.items()}
        self.names = {name: dict(names) for name, names in self.pristine_names.items()}
        self.hooks = self._hooks()

    def _restore_names(self):
        for name, saved in self.pristine_names.items():
            space, current = self.namespaces[name], dict(vars(self.namespaces[name]))
            for key in current.keys() - saved.keys():
                delattr(space, key)
            for key, value in saved.items():
                if current.get(key, _MISSING) is not value:
                    setattr(space, key, value)

    def _restore(self):
        self._restore_names()
        for owner, attr, original in self.pristine.values():
            if owner is not None and getattr(owner, attr, None) is not original:
                setattr(owner, attr, original)
        state, s = self.pristine_shell, self.shell
        for items, saved in state["lists"]:
            items[:] = saved
        for name, calls in s.events.callbacks.items():
            calls[:] = state["callbacks"].get(name, [])
        s.custom_exceptions, custom_tb = state["custom"]
        if custom_tb is not None:
            s.CustomTB = custom_tb
        for name, (own, function) in state["methods"].items():
            if not own:
                vars(s).pop(name, None)
            if function is not None and getattr(type(s), name, None) is not function:
                setattr(type(s), name, function)
        sys.excepthook = state["excepthook"]
        sys.settrace(None)
        sys.setprofile(None)

    def _hooks(self):
        """What the shell runs around each cell, by name: identities, so in-place swaps count too."""
        s = self.shell
        ids = lambda items: tuple(map(id, items))  # noqa: E731
        return {
            "IPython input transformers": (
                ids(s.input_transformers_cleanup),
                ids(s.input_transformers_post),
                ids(s.ast_transformers),
            ),
            "IPython event callbacks": {name: ids(calls) for name, calls in s.events.callbacks.items()},
            "exception handlers": (tuple(s.custom_exceptions), id(vars(s).get("CustomTB")), id(sys.excepthook)),
            "IPython's cell running or traceback display": tuple(
                (id(vars(s).get(name)), id(getattr(type(s), name, None))) for name in SHELL_METHODS
            ),
            "tracing or profiling": (sys.gettrace() is None, sys.getprofile() is None),
        }

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
        elif (
            event == "ctypes.dlopen"
            and _installed_library(args)
            or (event == "ctypes.call_function" and not _called_by_notebook())
        ):
            return None  # libraries' own native code (threadpoolctl setting BLAS threads, ...)
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
        for name, saved in self.names.items():
            current = dict(vars(self.namespaces[name]))
            changed = sorted(
                k for k in saved.keys() | current.keys() if saved.get(k, _MISSING) is not current.get(k, _MISSING)
            )
            found += [f"patched {name}.{key}" for key in changed[:5]]
            self.names[name] = current
        hooks = self._hooks()
        found += [f"changed {name}" for name in hooks if hooks[name] != self.hooks[name]]
        self.hooks = hooks
        env = {k: v for k, v in os.environ.items() if k.startswith(("COURSE_", "NBGRADER_"))}
        if env != self.env:
            found.append("changed the grader's environment variables")
            self.env = env
        return found
