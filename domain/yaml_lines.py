"""YAML files staff write, with the line of every field, and one-line errors that point there.

`load_yaml_mapping` parses a YAML document into plain Python values and a `SourceMap`
from field paths (`("items", 3, "specialty")`) to 1-based line numbers. Anchors and
aliases (`&name`, `*name`) are refused where they appear, so that a "billion laughs"
document ends in one line before anything is expanded. `domain.csv_lines` gives CSV
files the same shape (rows as mappings, a `SourceMap`), so every file a person writes
is validated by pydantic models and reported the same way.
`user_error_from_validation` turns a pydantic `ValidationError` into one `UserError`
line: `file line N, items[3].specialty: what is wrong; how to fix it`.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

from domain.errors import UserError

Path = tuple[str | int, ...]
_M = typing.TypeVar("_M", bound=BaseModel)

_MAX_SHOWN = 60


class FileModel(BaseModel):
    """Base of the models of files people write: immutable, unknown fields refused."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


@dataclass(frozen=True)
class SourceMap:
    """Where a document came from and the line of each field path in it."""

    source: str
    lines: Mapping[Path, int] = field(default_factory=dict)
    show_path: bool = True  # False: messages name their field themselves
    fix: str = ""  # appended to every message: what to do once the file is fixed

    def line_of(self, path: Path) -> int | None:
        """The line of `path`, or of its nearest ancestor that is in the file."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None

    def locate(self, path: Path) -> str:
        """'file line N, items[3].specialty' (without the line if it is unknown)."""
        line = self.line_of(path)
        where = self.source if line is None else f"{self.source} line {line}"
        shown = format_path(path) if self.show_path else ""
        return f"{where}, {shown}" if shown else where

    def error(self, path: Path, message: str) -> UserError:
        """A one-line UserError for a problem at `path`."""
        fix = f"; {self.fix}" if self.fix else ""
        return UserError(one_line(f"{self.locate(path)}: {message}{fix}"))


def format_path(path: Iterable[str | int]) -> str:
    """('items', 3, 'specialty') -> 'items[3].specialty'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def one_line(text: str) -> str:
    """`text` with every run of whitespace (newlines included) as one space."""
    return " ".join(text.split())


def shown_value(value: Any) -> str:
    """A short, one-line repr of a value for error messages."""
    text = one_line(repr(value))
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def closest_name(name: object, known: Iterable[str]) -> str | None:
    """The known name that `name` is most likely a misspelling of, if any is close."""
    if not isinstance(name, str):
        return None
    by_fold = {k.casefold(): k for k in known}
    found = difflib.get_close_matches(name.casefold(), list(by_fold), n=1, cutoff=0.5)
    return by_fold[found[0]] if found else None


def unknown_name_message(name: object, known: Iterable[str], what: str = "field") -> str:
    """ "unknown field 'dedline'; did you mean deadline? (allowed fields here: ...)"."""
    known = list(known)
    guess = closest_name(name, known)
    fix = f"did you mean {guess}?" if guess else "remove it or fix its spelling"
    listed = f" (allowed {what}s here: {', '.join(known)})" if known else ""
    return f"unknown {what} {shown_value(name)}; {fix}{listed}"


MAX_DEPTH = 50  # nesting levels; files people write use fewer than ten


class StructureRefused(yaml.YAMLError):
    """An anchor, an alias or too deep nesting: refused so that no document can expand
    beyond its text or exhaust the stack."""

    def __init__(self, line: int, token: str) -> None:
        super().__init__(
            f"YAML anchors and aliases ({token}) are not allowed; write the value out in full"
            if token
            else f"the YAML is nested more than {MAX_DEPTH} levels deep; flatten it"
        )
        self.line = line


class SafeLineLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors and aliases and keeps dates as text (so that a bad
    date is our error with a line). The one YAML loader for files people write."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            raise StructureRefused(line, f"*{event.anchor}")
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise StructureRefused(line, f"&{anchor}")
        if self._depth >= MAX_DEPTH:
            raise StructureRefused(line, "")
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


SafeLineLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _timestamp_as_text(loader: SafeLineLoader, node: yaml.Node) -> Any:
    assert isinstance(node, yaml.ScalarNode)
    return loader.construct_scalar(node)


SafeLineLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


def load_yaml_mapping(
    text: str, source: str, *, show_path: bool = True, fix: str = ""
) -> tuple[dict[str, Any], SourceMap]:
    """Parse a YAML document whose top level is a mapping; refuse duplicate keys, anchors
    and aliases. `show_path` and `fix` shape the messages (see `SourceMap`)."""
    empty = SourceMap(source, {}, show_path, fix)
    loader = SafeLineLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise empty.error((), "the file is empty; write the fields as `name: value` lines")
        if not isinstance(node, yaml.MappingNode):
            raise SourceMap(source, {(): node.start_mark.line + 1}, False, fix).error(
                (),
                "the top level must be a mapping of fields (`name: value` lines), not a list "
                "or a single value",
            )
        source_map = SourceMap(source, {(): node.start_mark.line + 1}, show_path, fix)
        _collect_lines(node, (), source_map)
        data = loader.construct_document(node)
    except StructureRefused as exc:
        raise SourceMap(source, {(): exc.line}, False, fix).error((), str(exc)) from None
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, empty) from None
    except yaml.YAMLError as exc:
        raise empty.error((), f"not valid YAML ({one_line(str(exc))})") from None
    finally:
        loader.dispose()
    return data, source_map


def _syntax_error(exc: yaml.MarkedYAMLError, empty: SourceMap) -> UserError:
    mark = exc.problem_mark or exc.context_mark
    where = f" line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
    problem = one_line(exc.problem or exc.context or "syntax error")
    fix = f"; {empty.fix}" if empty.fix else ""
    return UserError(
        f"{empty.source}{where}: not valid YAML ({problem}); fix the YAML syntax error: check "
        f"the indentation and quote values that contain ': ' or start with a special "
        f"character{fix}"
    )


def _collect_lines(node: yaml.Node, path: Path, source_map: SourceMap) -> None:
    lines = source_map.lines
    assert isinstance(lines, dict)
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            line = key_node.start_mark.line + 1
            lines[(*path, key)] = line
            if key in seen:
                raise source_map.error(
                    (*path, key),
                    f"field '{key}' appears twice (first on line {seen[key]}); keep one of them",
                )
            seen[key] = line
            _collect_lines(value_node, (*path, key), source_map)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines.setdefault((*path, index), item.start_mark.line + 1)
            _collect_lines(item, (*path, index), source_map)


# --- pydantic errors -> one line ---------------------------------------------------------


def validate_file(
    model: type[_M],
    data: Any,
    source_map: SourceMap,
    hints: Callable[[Path, ErrorDetails], str | None] | None = None,
) -> _M:
    """`model` validated from a loaded file, or one UserError line for its first problem."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise user_error_from_validation(exc, source_map, model, hints) from None


ERROR_PREFIX = "hoering_"


def custom_error(kind: str, message: str) -> PydanticCustomError:
    """An error for a field validator whose message is shown to the user as is."""
    return PydanticCustomError(ERROR_PREFIX + kind, message.replace("{", "{{").replace("}", "}}"))


def field_error(loc: Path, kind: str, message: str, value: Any = None) -> ValidationError:
    """A ValidationError for one field, to raise from a model validator.

    Raised inside a validator, pydantic merges it with the path of the enclosing field,
    so a check on the whole spec can still point at `items[3].expected_id`.
    """
    detail: InitErrorDetails = {
        "type": custom_error(kind, message),
        "loc": loc,
        "input": value,
    }
    return ValidationError.from_exception_data("hoering", [detail])


def user_error_from_validation(
    exc: ValidationError,
    source_map: SourceMap,
    model: type[BaseModel],
    hints: Callable[[Path, ErrorDetails], str | None] | None = None,
) -> UserError:
    """The first error (by line) of `exc` as one UserError line.

    `model` is the root model: it is used to drop discriminated-union tags from the
    error paths and to list the allowed fields when a field is unknown.
    """
    problems = []
    for order, error in enumerate(exc.errors(include_url=False)):
        path, target, parent = _clean_loc(model, tuple(error["loc"]))
        if error["type"] == "extra_forbidden":
            target = parent
        if error["type"] in {"union_tag_invalid", "union_tag_not_found"}:
            path = (*path, "kind")
        line = source_map.line_of(path)
        text = (hints(path, error) if hints else None) or _describe(error, path, target)
        # Most specific first: a problem at its own line (a misspelt `dedline`) before one
        # that can only point at an enclosing line (the missing `deadline`).
        vague = error["type"] == "missing" or source_map.lines.get(path) is None
        problems.append((vague, line if line is not None else 0, order, path, text))
    problems.sort(key=lambda p: p[:3])
    *_, path, text = problems[0]
    more = len(problems) - 1
    suffix = f" ({more} more problem{'s' if more > 1 else ''} after this one)" if more else ""
    return source_map.error(path, text + suffix)


def _describe(error: ErrorDetails, path: Path, target: Any) -> str:
    kind = error["type"]
    name = path[-1] if path else ""
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return f"required field '{name}' is missing; add `{name}: ...` here"
    if kind == "extra_forbidden":
        return unknown_name_message(name, _field_names(target))
    if kind == "union_tag_invalid":
        expected = str(ctx.get("expected_tags", ""))
        return f"unknown kind {shown_value(ctx.get('tag'))}; {_guess(ctx.get('tag'), expected)}"
    if kind == "union_tag_not_found":
        return "the item has no `kind`; add `kind:` (e.g. `kind: new_goal`)"
    if kind in {"literal_error", "enum"}:
        expected = str(ctx.get("expected", ""))
        guess = closest_name(value, re.findall(r"'([^']*)'", expected))
        hint = f"did you mean {guess}? " if guess and guess != value else ""
        return f"{shown_value(value)} is not allowed; {hint}{error['msg'].lower()}"
    if kind in {"string_type", "str_type"}:
        return f"expected text, got {shown_value(value)}; put the value in quotes"
    if kind in {"list_type", "tuple_type"}:
        return f"expected a list, got {shown_value(value)}; write it as `[a, b]` or `- a` lines"
    if kind in {"model_type", "dict_type", "model_attributes_type"}:
        return f"expected a mapping of fields, got {shown_value(value)}; indent `name: value` lines"
    if kind in {"bool_type", "bool_parsing"}:
        return f"expected true or false, got {shown_value(value)}"
    if kind in {"int_type", "int_parsing", "int_from_float"}:
        return f"expected a whole number, got {shown_value(value)}"
    if kind == "too_short":
        return "must not be empty; add at least one entry"
    if kind.startswith(ERROR_PREFIX) or isinstance(value, (dict, list)):
        return error["msg"]
    return f"{error['msg']} (got {shown_value(value)})"


def _guess(value: object, expected: str) -> str:
    """'did you mean new_goal? (use one of ...)' or 'use one of ...'."""
    guess = closest_name(value, re.findall(r"'([^']*)'", expected))
    return f"did you mean {guess}? (use one of {expected})" if guess else f"use one of {expected}"


def _clean_loc(model: type[BaseModel], loc: Path) -> tuple[Path, Any, Any]:
    """The YAML path of a pydantic error location, the type it ends in and its parent's.

    Pydantic puts the tag of a discriminated union into the location
    (`items.3.new_goal.heading`); the YAML has no such level, so it is dropped.
    """
    path: list[str | int] = []
    current: Any = model
    parent: Any = None
    for part in loc:
        union = _tagged_members(current)
        if union and isinstance(part, str) and part in union:
            current = union[part]
            continue
        path.append(part)
        parent, current = current, _step(current, part)
    return tuple(path), current, parent


def _step(annotation: Any, part: str | int) -> Any:
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        info = annotation.model_fields.get(str(part))
        return info.annotation if info is not None else None
    origin = typing.get_origin(annotation)
    if origin in (list, tuple) and isinstance(part, int):
        args = typing.get_args(annotation)
        return args[0] if args else None
    if origin in (dict, Mapping):
        args = typing.get_args(annotation)
        return args[1] if len(args) == 2 else None
    return None


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated[...] and Optional[...] down to the one interesting type."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def _tagged_members(annotation: Any) -> dict[str, type[BaseModel]]:
    """For a union of models each with a Literal `kind`, the models by tag."""
    annotation = _unwrap(annotation)
    if typing.get_origin(annotation) not in (typing.Union, types.UnionType):
        return {}
    members: dict[str, type[BaseModel]] = {}
    for arg in typing.get_args(annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel) and "kind" in arg.model_fields:
            for tag in typing.get_args(arg.model_fields["kind"].annotation):
                members[str(tag)] = arg
    return members


def _field_names(target: Any) -> list[str]:
    target = _unwrap(target)
    if isinstance(target, type) and issubclass(target, BaseModel):
        return [
            info.alias or name
            for name, info in target.model_fields.items()
            if info.exclude is not True
        ]
    return []
