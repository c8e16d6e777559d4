"""Operator-edited YAML files (service levels, canned replies) read into pydantic models, with
errors that name the file and the line, as an operator needs them to fix the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from escalation.errors import EscalationError

Model = TypeVar("Model", bound=BaseModel)


def load_model(path: Path, model: type[Model], error: type[EscalationError], what: str) -> Model:
    """``path`` parsed as ``model``.

    Raises:
        error: "<file>:<line>: <field>: <what is wrong>", or why the file cannot be read.
    """
    try:
        text = path.read_text(encoding="utf-8")
        raw = yaml.safe_load(text)
    except OSError as problem:
        raise error(f"{path}: cannot read the {what}: {problem.strerror}") from None
    except yaml.YAMLError as problem:
        mark = getattr(problem, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise error(f"{where}: not valid YAML") from None
    try:
        return model.model_validate(raw)
    except ValidationError as problem:
        first = problem.errors()[0]
        line = line_of(text, first["loc"])
        where = f"{path}:{line}" if line else str(path)
        field = ".".join(str(part) for part in first["loc"])
        raise error(f"{where}: {field}: {first['msg']}") from None


def line_of(text: str, location: tuple[Any, ...]) -> int | None:
    """The line (1-based) of the YAML node at ``location``, or of its nearest parent."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for key in location:
        if node is None:
            break
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == str(key)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            break
    if node is not None:
        line = node.start_mark.line + 1
    return line
