"""The student's process: a submission's code runs here, and only here.

The grader never runs a student's code in the process that decides the grade. It starts
one *student process* per submission (``StudentProcess``): a fresh ``python -I`` in an
empty temporary folder, with a memory limit (RLIMIT_AS), a file-size limit, no network
where the OS allows it (a new network namespace with ``unshare``), and, when the grader
runs as root, the unprivileged user ``nobody``. It runs the notebook's code cells top
to bottom, then waits for calls.

The grader's checkers run in the grader's process and call the student's functions
through proxies (``StudentFunction``): each call sends the arguments down a pipe as
JSON, the student process calls the real function and sends back the answer and the
new ``data`` and ``grad`` of every Value it was given. Values travel as graphs (each
node's data, grad, label, op name, inputs and local derivatives), so a Value the
student builds comes back as a graph that ``backward()`` runs through on the grader's
side; anything else (a trained model, say) stays in the student process and comes back
as a handle that can be called in turn. So whatever the student's code prints, defines
or patches (a checker, ``math.isclose``, the expected values) stays in its own process:
all it can send back is answers, and the grader judges them.

One message per line, both ways:
    grader -> student   the job {"cells": [[number, source], ...], "user": uid or null}, then
                        {"lookup": name} or {"call": handle, "nodes": [...], "args": ..., "kwargs": ...}
    student -> grader   {"cell": number} before each cell, {"ran": number, "error": text or null}
                        after it, {"ready": true}; then one reply per request
"""
from __future__ import annotations

import inspect
import json
import numbers
import os
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import IO, Any

from glassgrad.engine import Value, topological_order
from glassgrad.engine.ops import BUILTIN_OPS

MAX_MESSAGE_BYTES = 64 * 2**20   # a longer line from the student process is refused
MAX_FILE_BYTES = 64 * 2**20      # RLIMIT_FSIZE: no file the notebook writes grows beyond this
NOBODY = 65534
_BOOT = "from glassgrad.viz.sandbox import serve; serve()"


class StudentStopped(Exception):
    """The student process can answer no more: it ran out of time, died or broke the protocol."""


class StudentRaised(Exception):
    """The student's function raised an exception (the text says which, and where)."""


# ------------------------------------------------------------------ the wire format


class Wire:
    """The Values of one call that both processes know, by index, and the JSON codec.

    A Value is sent as its graph: one row ``[data, grad, label, op name, inputs, local_grads]``
    per node not yet in the table (inputs are table indices), then ``{"value": index}``.
    Lists, tuples and str-keyed dicts are tagged so they come back as what they were;
    other objects become handles (``handle_of``) kept alive on the side that owns them.
    Lists are numbered too, in the order they are met, so that what a function does to a
    list it was given (``velocity[i] = ...``) can be sent back and done to the original.
    """

    def __init__(self, handle_of: Any, from_handle: Any) -> None:
        self.nodes: list[Value] = []
        self.lists: list[list] = []
        self._index: dict[int, int] = {}
        self._rows: list[list] = []
        self._handle_of, self._from_handle = handle_of, from_handle

    def encode(self, obj: object) -> object:
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, numbers.Integral):
            return int(obj)
        if isinstance(obj, numbers.Real):
            return float(obj)
        if isinstance(obj, Value):
            self._add_graph(obj)
            return {"value": self._index[id(obj)]}
        if isinstance(obj, list):
            self.lists.append(obj)
            return {"list": [self.encode(item) for item in obj]}
        if isinstance(obj, tuple):
            return {"tuple": [self.encode(item) for item in obj]}
        if isinstance(obj, dict) and all(isinstance(key, str) for key in obj):
            return {"dict": {key: self.encode(item) for key, item in obj.items()}}
        return self._handle_of(obj)

    def decode(self, data: object) -> object:
        if not isinstance(data, dict):
            return data
        if "value" in data:
            return self.nodes[data["value"]]
        if "list" in data:
            items: list = []
            self.lists.append(items)  # numbered before its items, as encode numbers them
            items.extend(self.decode(item) for item in data["list"])
            return items
        if "tuple" in data:
            return tuple(self.decode(item) for item in data["tuple"])
        if "dict" in data:
            return {key: self.decode(item) for key, item in data["dict"].items()}
        return self._from_handle(data)

    def new_rows(self) -> list[list]:
        """The rows of the nodes added since the last call (to send them along)."""
        rows, self._rows = self._rows, []
        return rows

    def add_rows(self, rows: list[list]) -> None:
        """Rebuild nodes the other side sent, in order (each row's inputs come before it)."""
        for data, grad, label, op_name, inputs, local_grads in rows:
            node = Value(0.0)
            self._set_numbers(node, data, grad)
            node.label = str(label)
            node.op = BUILTIN_OPS.get(op_name)
            node.inputs = tuple(self.nodes[i] for i in inputs)
            node.local_grads = tuple(float(g) for g in local_grads)
            self._remember(node)

    def state(self, count: int) -> list[list]:
        """[data, grad] of the first ``count`` nodes: what the function did to its arguments."""
        return [[self.encode(node.data), self.encode(node.grad)] for node in self.nodes[:count]]

    def set_state(self, state: list[list]) -> None:
        for node, (data, grad) in zip(self.nodes, state):
            self._set_numbers(node, data, grad)

    def list_state(self, count: int) -> list[object]:
        """The contents of the first ``count`` lists, as they are now."""
        return [{"list": [self.encode(item) for item in items]} for items in self.lists[:count]]

    def set_list_state(self, state: list[object]) -> None:
        """Put the other side's contents into the first lists (the originals stay the same objects)."""
        for items, data in zip(list(self.lists), state):
            new_items = self.decode(data)
            if not isinstance(new_items, list):
                raise TypeError("a list's state must be a list")
            items[:] = new_items

    def _set_numbers(self, node: Value, data: object, grad: object) -> None:
        # Whatever the other side's node held, unchecked: a student's code may have put a
        # str or None there, and the checker, not the wire, says what is wrong with it.
        node.data, node.grad = self.decode(data), self.decode(grad)  # type: ignore[assignment]

    def _remember(self, node: Value) -> None:
        self._index[id(node)] = len(self.nodes)
        self.nodes.append(node)

    def _add_graph(self, root: Value) -> None:
        for node in topological_order(root):
            if id(node) not in self._index:
                self._remember(node)
                self._rows.append([self.encode(node.data), self.encode(node.grad), node.label,
                                   node.op.name if node.op else None,
                                   [self._index[id(i)] for i in node.inputs],
                                   [float(g) for g in node.local_grads]])


# ------------------------------------------------------ inside the student process


def serve() -> None:
    """The student process: run the cells, then answer lookups and calls until stdin closes."""
    requests = os.fdopen(os.dup(0), "rb")
    replies = os.fdopen(os.dup(1), "wb", buffering=0)
    quiet = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # the notebook's own input and output go nowhere
        os.dup2(quiet, fd)

    def send(message: dict) -> None:
        replies.write(json.dumps(message).encode() + b"\n")

    job = json.loads(requests.readline())
    if job["user"] is not None:  # root: give up every privilege before any student code
        os.setgroups([])
        os.setgid(job["user"])
        os.setuid(job["user"])
    namespace: dict[str, object] = {"__name__": "__main__", "display": lambda *a, **k: None}
    for number, source in job["cells"]:
        send({"cell": number})
        send({"ran": number, "error": _run_cell(number, source, namespace)})
    send({"ready": True})
    handles: list[object] = []

    def handle_of(obj: object) -> dict:
        handles.append(obj)
        return {"handle": len(handles) - 1, "type": type(obj).__name__, "callable": callable(obj)}

    for line in requests:
        request = json.loads(line)
        try:
            reply = (_lookup(namespace, request["lookup"], handle_of) if "lookup" in request
                     else _call(request, handles, handle_of))
            send(reply)
        except Exception as error:  # an answer that cannot be sent (a cycle, a huge number...)
            send({"raised": type(error).__name__,
                  "message": f"its answer could not be sent back: {error}", "where": ""})


def _run_cell(number: int, source: str, namespace: dict) -> str | None:
    """Run one cell like Jupyter does; None, or the error in one line."""
    try:
        code = compile(source, f"<cell {number}>", "exec")
    except SyntaxError as error:
        return f"{type(error).__name__}: {error.msg} (line {error.lineno})"
    try:
        exec(code, namespace)
    except BaseException as error:  # noqa: B902 (exit() and MemoryError included: the notebook goes on)
        return f"{_error_text(error)}{_where(error)}"
    return None


def _lookup(namespace: dict, name: str, handle_of: Any) -> dict:
    if name not in namespace:
        return {"found": False}
    obj = namespace[name]
    if not callable(obj):
        return {"found": True, "callable": False, "type": type(obj).__name__}
    try:
        parameters = [[p.name, int(p.kind), p.default is not p.empty]
                      for p in inspect.signature(obj).parameters.values()]
    except (TypeError, ValueError):
        parameters = None
    return {"found": True, "callable": True, "handle": handle_of(obj)["handle"],
            "name": str(getattr(obj, "__name__", name)), "parameters": parameters}


def _call(request: dict, handles: list, handle_of: Any) -> dict:
    wire = Wire(handle_of, lambda data: handles[data["handle"]])
    wire.add_rows(request["nodes"])
    given = len(wire.nodes)
    args = wire.decode(request["args"])
    kwargs = wire.decode(request["kwargs"])
    given_lists = len(wire.lists)
    assert isinstance(args, list) and isinstance(kwargs, dict)  # StudentProcess.call sends them so
    try:
        result = handles[request["call"]](*args, **kwargs)
    except BaseException as error:  # noqa: B902
        return {"raised": type(error).__name__, "message": _error_text(error), "where": _where(error)}
    encoded = wire.encode(result)
    lists = wire.list_state(given_lists)
    return {"state": wire.state(given), "lists": lists, "nodes": wire.new_rows(), "result": encoded}


def _error_text(error: BaseException) -> str:
    if isinstance(error, SystemExit):
        return "SystemExit: the code called exit()"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _where(error: BaseException) -> str:
    """' (cell 4, line 3)': the last line of the notebook's own code in the traceback."""
    cells = [frame for frame in traceback.extract_tb(error.__traceback__)
             if frame.filename.startswith("<cell ")]
    return f" ({cells[-1].filename[1:-1]}, line {cells[-1].lineno})" if cells else ""


# ------------------------------------------------------- on the grader's side


class StudentProcess:
    """One submission's process: ``run_cells()``, then ``function(name)`` for each check."""

    def __init__(self, cells: list[tuple[int, str]], *, timeout: float, memory_mb: int) -> None:
        self.cells, self.timeout, self.memory_mb = cells, timeout, memory_mb
        self.running_cell: int | None = None
        self.cell_errors: dict[int, str] = {}
        self.deadline = 0.0
        self._buffer = b""
        self._process: subprocess.Popen[bytes] | None = None
        self._to_student: IO[bytes]    # the process's stdin and stdout pipes, opened by __enter__
        self._from_student: IO[bytes]
        self._folder = ""

    def __enter__(self) -> StudentProcess:
        root = runs_as_nobody()
        self._folder = tempfile.mkdtemp(prefix="glassgrad-grade-")
        work = Path(self._folder, "work")
        work.mkdir()
        if root:  # nobody may enter the parent folder but not write there: ../x stays out
            os.chmod(self._folder, 0o711)
            os.chown(work, NOBODY, NOBODY)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work),
               "TMPDIR": str(work), "MPLBACKEND": "Agg", "MPLCONFIGDIR": str(work / ".matplotlib"),
               "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "LANG": "C.UTF-8",
               "GLASSGRAD_CHECKS": "off"}  # the notebook's own check calls do nothing here
        self.deadline = time.monotonic() + self.timeout
        self._process = subprocess.Popen(
            [*network_isolation(), sys.executable, "-I", "-c", _BOOT], cwd=work, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            preexec_fn=self._limits, start_new_session=True)
        assert self._process.stdin is not None and self._process.stdout is not None  # both PIPEs
        self._to_student, self._from_student = self._process.stdin, self._process.stdout
        self._send({"cells": self.cells, "user": NOBODY if root else None})
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._process is not None:
            try:
                os.killpg(self._process.pid, signal.SIGKILL)  # its children too
            except ProcessLookupError:
                pass
            self._process.wait()
            for stream in (self._to_student, self._from_student):
                stream.close()
        shutil.rmtree(self._folder, ignore_errors=True)

    def _limits(self) -> None:  # runs in the child, before it starts Python
        memory = self.memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_FILE_BYTES, MAX_FILE_BYTES))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    def run_cells(self) -> None:
        """Run the notebook; ``cell_errors`` gets {cell number: error} for the cells that failed."""
        while True:
            message = self._receive()
            if "cell" in message:
                self.running_cell = message["cell"]
            elif "ran" in message:
                self.running_cell = None
                if message["error"]:
                    self.cell_errors[int(message["ran"])] = str(message["error"])
            elif message.get("ready"):
                return

    def function(self, name: str) -> StudentFunction | str:
        """The student's function ``name``, or why there is none (a sentence)."""
        found = self._request({"lookup": name})
        if not found.get("found"):
            return f"{name} is not defined"
        if not found.get("callable"):
            return f"{name} is a {found.get('type')}, not a function"
        return StudentFunction(self, found["handle"], str(found["name"]), found.get("parameters"))

    def call(self, handle: int, name: str, args: tuple, kwargs: dict) -> object:
        wire = Wire(_argument_handle, lambda data: StudentFunction(
            self, data["handle"], f"your {data.get('type', 'object')}", None))
        message = {"call": handle, "args": wire.encode(list(args)), "kwargs": wire.encode(kwargs)}
        message["nodes"] = wire.new_rows()
        given, given_lists = len(wire.nodes), len(wire.lists)
        reply = self._request(message)
        if "raised" in reply:
            if reply["raised"] == "NotImplementedError":
                raise NotImplementedError(str(reply["message"]))
            raise StudentRaised(f"{name} raised {reply['message']}{reply['where']}")
        try:
            wire.set_state(reply["state"][:given])
            wire.add_rows(reply["nodes"])
            wire.set_list_state(reply["lists"][:given_lists])
            return wire.decode(reply["result"])
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            raise StudentStopped("the notebook's process broke the grader's protocol") from None

    def _request(self, message: dict) -> dict:
        self._send(message)
        return self._receive()

    def _send(self, message: dict) -> None:
        try:
            self._to_student.write(json.dumps(message).encode() + b"\n")
            self._to_student.flush()
        except (BrokenPipeError, OSError):
            raise StudentStopped(self._death()) from None

    def _receive(self) -> dict:
        """The next message, within the time left; StudentStopped if there is none."""
        stdout = self._from_student.fileno()
        with selectors.DefaultSelector() as selector:
            selector.register(stdout, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                left = self.deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    where = (f" (cell {self.running_cell} was still running: an infinite loop?)"
                             if self.running_cell is not None else "")
                    raise StudentStopped(f"the notebook used up its time limit of "
                                         f"{self.timeout:g} s{where}")
                chunk = os.read(stdout, 2**20)
                if not chunk:
                    raise StudentStopped(self._death())
                self._buffer += chunk
                if len(self._buffer) > MAX_MESSAGE_BYTES:
                    raise StudentStopped("the notebook's process sent an answer over "
                                         f"{MAX_MESSAGE_BYTES // 2**20} MB")
        line, _, self._buffer = self._buffer.partition(b"\n")
        try:
            message = json.loads(line)
        except ValueError:
            message = None
        if not isinstance(message, dict):
            raise StudentStopped("the notebook's process broke the grader's protocol")
        return message

    def _death(self) -> str:
        """Why the process ended, in words."""
        assert self._process is not None  # only a started process can end
        try:
            status = self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return "the notebook's process stopped answering"
        where = f" while cell {self.running_cell} was running" if self.running_cell is not None else ""
        if status < 0:
            name = signal.Signals(-status).name
            return (f"the notebook's process was killed by {name}{where} (over the memory limit "
                    f"of {self.memory_mb} MB, or a crash in compiled code?)")
        return f"the notebook's process exited with status {status}{where} (os._exit?)"


def _argument_handle(obj: object) -> dict:
    if isinstance(obj, StudentFunction):
        return {"handle": obj.handle}
    raise TypeError(f"the grader cannot send a {type(obj).__name__} to the notebook")


class StudentFunction:
    """A function or object in the student process; calling it calls the real one there."""

    def __init__(self, process: StudentProcess, handle: int, name: str,
                 parameters: list | None) -> None:
        self.process, self.handle, self.__name__ = process, handle, name
        if parameters is not None:  # so that the checkers' signature test sees the real one
            try:
                self.__signature__ = inspect.Signature([
                    inspect.Parameter(param, _KINDS[kind],
                                      default=None if has_default else inspect.Parameter.empty)
                    for param, kind, has_default in parameters])
            except (TypeError, ValueError, IndexError):
                pass

    def __call__(self, *args: object, **kwargs: object) -> object:
        return self.process.call(self.handle, self.__name__, args, kwargs)

    def __repr__(self) -> str:
        return f"<{self.__name__} in the student's notebook>"


_KINDS = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD,
          inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.KEYWORD_ONLY,
          inspect.Parameter.VAR_KEYWORD)  # indexed by int(Parameter.kind)

_ISOLATION: list[list[str]] = []


def runs_as_nobody() -> bool:
    """True when the grader is root and everyone may read Python and glassgrad (so the
    notebook can run as ``nobody``); otherwise the notebook runs as the grader's user."""
    if os.geteuid() != 0:
        return False
    import glassgrad.engine
    folders = [p for p in sys.path if p and os.path.isdir(p)]
    folders += [os.path.dirname(os.path.dirname(glassgrad.engine.__file__))]
    for folder in map(Path, folders):
        for step in [folder.resolve(), *folder.resolve().parents]:
            if step.stat().st_mode & 0o005 != 0o005:  # others may not list and enter it
                return False
    return True


def network_isolation() -> list[str]:
    """The command prefix that gives the student process no network, or [] where the OS
    refuses (no ``unshare``, or user namespaces turned off). Probed once."""
    if not _ISOLATION:
        prefix = ["unshare", "--net"] if os.geteuid() == 0 else ["unshare", "--net", "--map-root-user"]
        try:
            works = subprocess.run([*prefix, "true"], capture_output=True, timeout=10).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            works = False
        _ISOLATION.append(prefix if works else [])
    return _ISOLATION[0]


def isolation_summary(timeout: float, memory_mb: int) -> str:
    """What the student processes of this machine get, in one paragraph for the teacher."""
    network = ("no network (a new network namespace)" if network_isolation() else
               "the network (this OS refuses `unshare --net`)")
    user = ("run as the user nobody" if runs_as_nobody() else
            "run as your user and can read and write what you can: grade in a container "
            "(or as root with a Python everyone can read) to keep them away from your files")
    return (f"Each notebook runs in its own process in an empty temporary folder, for at most "
            f"{timeout:g} s, with {memory_mb} MB of memory and {network}; notebooks {user}.")
