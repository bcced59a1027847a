"""Saving parameters to JSON and loading them back, checking everything first.

A saved model is a small, readable JSON file (never pickle: loading a file must not
be able to run code)::

    {
      "format": "glassgrad-module",
      "version": 1,
      "model": "MLP(2, [16, 1])",
      "parameter_count": 65,
      "parameters": {"layers.0.neurons.0.w.0": 0.2351, ...}
    }

Loading reads and validates the whole file (size, JSON syntax, header, every name and
number) before it assigns a single parameter: a bad file raises a ValueError that
names the file and the problem, and leaves the model exactly as it was.
"""
from __future__ import annotations

import json
import math
import os
import tempfile
from typing import TYPE_CHECKING, Mapping

from glassgrad.engine import Value

if TYPE_CHECKING:
    from .module import Module

FORMAT = "glassgrad-module"
VERSION = 1
MAX_FILE_BYTES = 32 * 1024 * 1024  # ~1 million parameters; a scalar engine never needs more


def save_module(module: Module, path: str | os.PathLike) -> None:
    """Write ``module``'s parameters and a header to ``path`` as JSON.

    The file is written next to ``path`` first and then renamed over it, so a crash
    half-way never leaves a truncated model file behind.
    """
    state = module.state_dict()
    document = {"format": FORMAT, "version": VERSION, "model": repr(module),
                "parameter_count": len(state), "parameters": state}
    text = json.dumps(document, indent=1, allow_nan=False)  # floats round-trip exactly
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".glassgrad-", suffix=".json")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def load_module(module: Module, path: str | os.PathLike, *, strict: bool = True) -> list[tuple[Value, float]]:
    """Read and validate ``path`` for ``module``: the (parameter, number) pairs to assign.

    Nothing is assigned here (``Module.load`` does that), so a ValueError means the
    model is untouched.
    """
    where = os.fspath(path)
    document = _read_json(where)
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"{where}: not a glassgrad model file (no \"format\": \"{FORMAT}\" header)")
    if document.get("version") != VERSION:
        raise ValueError(f"{where}: file format version {document.get('version')!r} is not "
                         f"supported (this glassgrad reads version {VERSION})")
    state = document.get("parameters")
    if not isinstance(state, dict):
        raise ValueError(f"{where}: \"parameters\" must be an object of name: number pairs")
    count = document.get("parameter_count")
    if isinstance(count, bool) or not isinstance(count, int) or count != len(state):
        raise ValueError(f"{where}: the header says parameter_count {count!r} but the file holds "
                         f"{len(state)} parameters (the file is damaged or was edited)")
    saved_model = document.get("model")
    header = ""
    if isinstance(saved_model, str) and saved_model != repr(module):
        header = f". The file is for {saved_model}; this model is {module!r}"
    return check_state(module, state, strict=strict, source=where, header=header)


def check_state(module: Module, state: object, *, strict: bool, source: str,
                header: str = "") -> list[tuple[Value, float]]:
    """Validate ``state`` against ``module``: the (parameter, new number) pairs to assign.

    Raises ValueError naming ``source`` and the first problem. ``header`` is added to a
    wrong-names message (a file says which model it was saved from).
    """
    if not isinstance(state, Mapping):
        raise ValueError(f"{source}: expected a mapping of parameter names to numbers, "
                         f"got {type(state).__name__}")
    own = dict(module.named_parameters())
    for name, number in state.items():
        if not isinstance(name, str):
            raise ValueError(f"{source}: parameter names must be strings, got {name!r}")
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            raise ValueError(f"{source}: parameter {name!r} must be a number, "
                             f"got {type(number).__name__} {_short(number)}")
        if not math.isfinite(_as_float(number)):
            raise ValueError(f"{source}: parameter {name!r} is {_short(number)}; "
                             "parameters must be finite floats")
    if strict:
        missing = [name for name in own if name not in state]
        extra = [name for name in state if name not in own]
        if missing or extra:
            problem = (f"parameter {missing[0]!r} is missing" if missing
                       else f"parameter {extra[0]!r} is not in this model")
            counts = f" ({len(missing)} missing, {len(extra)} unexpected)"
            raise ValueError(f"{source}: {problem}{counts}{header}")
    return [(own[name], float(number)) for name, number in state.items() if name in own]


def _read_json(where: str) -> object:
    """The parsed file, or a ValueError that says what is wrong with it."""
    try:
        with open(where, "rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)  # never read more than the limit
    except OSError as error:
        raise ValueError(f"{where}: cannot read the file ({error.strerror or error})") from None
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"{where}: file is larger than the limit of {MAX_FILE_BYTES:,} bytes "
                         "for a model file; is it the right file?")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{where}: not a JSON text file (it is not UTF-8)") from None
    try:
        return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as error:
        raise ValueError(f"{where}: not valid JSON, the file may be truncated or corrupt "
                         f"({error.msg} at line {error.lineno}, column {error.colno})") from None
    except RecursionError:
        raise ValueError(f"{where}: JSON nested too deeply; not a glassgrad model file") from None
    except ValueError as error:  # from the two hooks below
        raise ValueError(f"{where}: {error}") from None


def _reject_constant(name: str) -> float:
    raise ValueError(f"the file contains {name}; parameters must be finite numbers")


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"the name {key!r} appears twice")
        result[key] = value
    return result


def _as_float(number: int | float) -> float:
    try:
        return float(number)
    except OverflowError:  # an int too large for a float
        return math.inf


def _short(x: object) -> str:
    text = repr(x)
    return text if len(text) <= 40 else text[:37] + "..."
