"""Reads of face enhancing processes, always scoped by the authenticated application.

A GUID is not an access check: every query here starts from the application
the credentials belong to, so one application can never see, count or download
another's processes, and a foreign id simply matches nothing.
"""

from __future__ import annotations

import math
import uuid
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Field, ForeignObjectRel, Model, QuerySet
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init

from enhancer.models import Application, FaceEnhancerProcess, RenderTask


def processes_of(
    *,
    application: Application,
    user_id: uuid.UUID | None = None,
    process_id: uuid.UUID | None = None,
) -> QuerySet[FaceEnhancerProcess]:
    """The application's processes (of one user, or one process), newest first."""
    processes = FaceEnhancerProcess.objects.filter(application=application)
    if user_id is not None:
        processes = processes.filter(user_id=user_id)
    if process_id is not None:
        processes = processes.filter(pk=process_id)
    return processes.order_by("-created_at", "-id").prefetch_related("render_tasks")


def process_get(*, application: Application, process_id: uuid.UUID) -> FaceEnhancerProcess | None:
    return processes_of(application=application, process_id=process_id).first()


@dataclass(frozen=True)
class ProcessPage:
    items: list[FaceEnhancerProcess]
    page: int
    page_size: int
    total_count: int
    # Each item's render tasks, oldest first, when read by progress_page
    # (process_page prefetches them onto the items instead).
    tasks: dict[uuid.UUID, list[RenderTask]] | None = field(default=None, compare=False)

    def tasks_of(self, process: FaceEnhancerProcess) -> list[RenderTask]:
        if self.tasks is None:
            return list(process.render_tasks.all())
        return self.tasks.get(process.id, [])

    @property
    def total_pages(self) -> int:
        return math.ceil(self.total_count / self.page_size)

    @property
    def has_previous_page(self) -> bool:
        return self.page > 1

    @property
    def has_next_page(self) -> bool:
        return self.page < self.total_pages


def process_page(
    processes: QuerySet[FaceEnhancerProcess], *, page: int, page_size: int
) -> ProcessPage:
    """One page of `processes`; `items` is empty when the page is past the end."""
    start = (page - 1) * page_size
    items = list(processes[start : start + page_size])
    if items and len(items) < page_size:
        total = start + len(items)  # a last page that is not full tells the count
    else:
        # A full page, or none: only a COUNT tells how many there are (and if
        # `page` is past the end of a non-empty list).
        total = processes.count()
    return ProcessPage(items=items, page=page, page_size=page_size, total_count=total)


def render_task_for_download(
    *, application: Application, process_id: uuid.UUID, task_id: uuid.UUID
) -> RenderTask | None:
    """The task, if the three ids belong together; None otherwise."""
    return (
        RenderTask.objects.select_related("process")
        .filter(pk=task_id, process_id=process_id, process__application=application)
        .first()
    )


# --- Progress reads --------------------------------------------------------------
#
# CheckUserProgress and CheckApplicationAllProgresses are what every client
# polls. Through the ORM, building and compiling their three queries cost
# many times running them (docs/performance.md), so these statements are
# written from the models' metadata (table, columns, Meta.ordering; no input
# ever goes into the SQL text, only into parameters). Values are read back
# through the converters the ORM applies, into ordinary model instances.


class ModelSelect:
    """SELECT every concrete column of `model`, read back as model instances."""

    def __init__(self, model: type[Model]) -> None:
        self.model = model
        self.fields = list(model._meta.concrete_fields)
        self.attnames = [f.attname for f in self.fields]
        self.columns = [f.get_col(model._meta.db_table) for f in self.fields]
        # Meta.ordering (field names, "-" for descending), else the primary key.
        ordering = model._meta.ordering or [model._meta.pk.name]
        self.ordering = [name for name in ordering if isinstance(name, str)]
        if len(self.ordering) != len(ordering):
            raise TypeError(f"{model.__name__} is ordered by an expression, not by fields")
        self._converters: weakref.WeakKeyDictionary[Any, list[list[Callable]]] = (
            weakref.WeakKeyDictionary()
        )
        # Statements and column names by (database vendor, arguments): the
        # same ones on every poll (the code's own conditions; an IN list per
        # page length, at most the largest page), and writing them again,
        # quoting each column, was about 0.1 ms of a one-process read.
        self._texts: dict[tuple[object, ...], str] = {}

    def sql(self, where: str, order_by: Sequence[str], *, limit: bool = False) -> str:
        key = (connection.vendor, where, tuple(order_by), limit)
        text = self._texts.get(key)
        if text is None:
            text = self._texts[key] = self._sql(where, order_by, limit=limit)
        return text

    def _sql(self, where: str, order_by: Sequence[str], *, limit: bool) -> str:
        quote = connection.ops.quote_name
        table = quote(self.model._meta.db_table)
        columns = ", ".join(f"{table}.{quote(_column(f))}" for f in self.fields)
        order = ", ".join(
            f"{table}.{quote(_column(self.model._meta.get_field(name.lstrip('-'))))}"
            + (" DESC" if name.startswith("-") else " ASC")
            for name in order_by
        )
        tail = " LIMIT %s OFFSET %s" if limit else ""
        # Only the model's identifiers are in the text; every value is a %s parameter.
        return f"SELECT {columns} FROM {table} WHERE {where} ORDER BY {order}{tail}"  # noqa: S608

    def column(self, name: str) -> str:
        key = (connection.vendor, name)
        text = self._texts.get(key)
        if text is None:
            quote = connection.ops.quote_name
            field = self.model._meta.get_field(name)
            text = f"{quote(self.model._meta.db_table)}.{quote(_column(field))}"
            self._texts[key] = text
        return text

    def param(self, name: str, value: object) -> Any:
        """`value` as the database adapter takes it for column `name` (type per backend)."""
        model_field = _concrete(self.model._meta.get_field(name))
        target: Field = getattr(model_field, "target_field", model_field)  # a foreign key's
        return target.get_db_prep_value(value, connection)

    def instances(self, rows: list[tuple]) -> list[Any]:
        wrapper = connections[DEFAULT_DB_ALIAS]  # this thread's; `connection` is a proxy
        converters = self._converters.get(wrapper)
        if converters is None:
            converters = [
                wrapper.ops.get_db_converters(column) + f.get_db_converters(wrapper)
                for f, column in zip(self.fields, self.columns, strict=True)
            ]
            self._converters[wrapper] = converters
        converted = [(i, c, self.columns[i]) for i, c in enumerate(converters) if c]
        model = self.model
        # Model.from_db with every column is Model(*values): one setattr per field
        # through its descriptor and the pre_init/post_init signals: an eighth of
        # a page's queries and body. With no receiver of either signal, the same
        # instance is the values in its __dict__ (what each field's __set__
        # stores on a new instance) and a ModelState saying where it was loaded
        # from.
        direct = not (pre_init.has_listeners(model) or post_init.has_listeners(model))
        made = []
        for row in rows:
            values = list(row)
            for i, functions, column in converted:
                for convert in functions:
                    values[i] = convert(values[i], column, wrapper)
            if direct:
                instance = model.__new__(model)
                state = ModelState()
                state.adding = False
                state.db = wrapper.alias
                instance._state = state
                instance.__dict__.update(zip(self.attnames, values, strict=True))
            else:
                instance = model.from_db(wrapper.alias, self.attnames, values)
            made.append(instance)
        return made

    def rows(self, where: str, params: list[Any]) -> list[Any]:
        """The instances matching `where` (columns from column(), values from param())."""
        with connection.cursor() as cursor:
            cursor.execute(self.sql(where, self.ordering), params)
            return self.instances(cursor.fetchall())


def _concrete(field: Field | ForeignObjectRel) -> Field:
    if not isinstance(field, Field):
        raise TypeError(f"{field} is a relation's reverse side, not a field of this model")
    return field


def _column(field: Field | ForeignObjectRel) -> str:
    column = _concrete(field).column
    if column is None:
        raise TypeError(f"{field} has no column of its own")
    return column


_PROCESSES = ModelSelect(FaceEnhancerProcess)
_TASKS = ModelSelect(RenderTask)


def progress_page(
    *,
    application: Application,
    page: int,
    page_size: int,
    user_id: uuid.UUID | None = None,
    process_id: uuid.UUID | None = None,
) -> ProcessPage:
    """process_page(processes_of(...)) with the same rows, order and counts, faster."""
    conditions = [f"{_PROCESSES.column('application')} = %s"]
    params = [_PROCESSES.param("application", application.id)]
    for name, value in (("user_id", user_id), ("id", process_id)):
        if value is not None:
            conditions.append(f"{_PROCESSES.column(name)} = %s")
            params.append(_PROCESSES.param(name, value))
    where = " AND ".join(conditions)
    start = (page - 1) * page_size
    order = _PROCESSES.ordering
    with connection.cursor() as cursor:
        cursor.execute(_PROCESSES.sql(where, order, limit=True), [*params, page_size, start])
        items: list[FaceEnhancerProcess] = _PROCESSES.instances(cursor.fetchall())
        if items and len(items) < page_size:
            total = start + len(items)  # a last page that is not full tells the count
        else:
            table = connection.ops.quote_name(FaceEnhancerProcess._meta.db_table)
            cursor.execute(f"SELECT COUNT(*) FROM {table} WHERE {where}", params)  # noqa: S608
            total = cursor.fetchone()[0]
        tasks: dict[uuid.UUID, list[RenderTask]] = {item.id: [] for item in items}
        if items:
            ids = [_TASKS.param("process", item.id) for item in items]
            marks = ", ".join(["%s"] * len(ids))
            sql = _TASKS.sql(f"{_TASKS.column('process')} IN ({marks})", _TASKS.ordering)
            cursor.execute(sql, ids)
            for task in _TASKS.instances(cursor.fetchall()):
                tasks[task.process_id].append(task)
    return ProcessPage(items=items, page=page, page_size=page_size, total_count=total, tasks=tasks)
