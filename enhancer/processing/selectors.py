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

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
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
    """SELECT every concrete column of `model` where fields equal values, as model instances.

    Statements are written once per database vendor and shape (which fields,
    which must be NULL, a LIMIT or not, how many values in an IN list): the
    same few on every poll, and writing them again, quoting each column, was
    about 0.1 ms of a one-process read. Each call looks the thread's
    connection up once: through the `connection` proxy every attribute is a
    lookup in asgiref's Local, 3% of a read.
    """

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
        self._texts: dict[tuple[object, ...], str] = {}
        # The field whose get_db_prep_value turns a value into the adapter's
        # (a foreign key's target), by field name.
        self._targets: dict[str, Field] = {}

    def fetch(
        self,
        equal: dict[str, object],
        *,
        null: tuple[str, ...] = (),
        page: tuple[int, int] | None = None,
    ) -> list[Any]:
        """The instances whose fields equal `equal`'s values and whose `null` fields are NULL,
        in Meta.ordering; `page` is (limit, offset)."""
        db = connections[DEFAULT_DB_ALIAS]
        names = tuple(equal)
        key = ("select", db.vendor, names, null, page is not None)
        sql = self._texts.get(key)
        if sql is None:
            where = self._where(db, names, null)
            tail = " LIMIT %s OFFSET %s" if page is not None else ""
            sql = self._texts[key] = (
                f"{self._select(db)} WHERE {where} ORDER BY {self._order(db)}{tail}"
            )
        params = [self.param(db, name, value) for name, value in equal.items()]
        if page is not None:
            params.extend(page)
        return self._run(db, sql, params)

    def fetch_in(self, name: str, values: Sequence[object]) -> list[Any]:
        """The instances whose field `name` is one of `values`, in Meta.ordering."""
        db = connections[DEFAULT_DB_ALIAS]
        key = ("in", db.vendor, name, len(values))
        sql = self._texts.get(key)
        if sql is None:
            marks = ", ".join(["%s"] * len(values))
            where = f"{self._column(db, name)} IN ({marks})"
            sql = self._texts[key] = f"{self._select(db)} WHERE {where} ORDER BY {self._order(db)}"
        return self._run(db, sql, [self.param(db, name, value) for value in values])

    def count(self, equal: dict[str, object]) -> int:
        db = connections[DEFAULT_DB_ALIAS]
        names = tuple(equal)
        key = ("count", db.vendor, names)
        sql = self._texts.get(key)
        if sql is None:
            where = self._where(db, names, ())
            sql = self._texts[key] = f"SELECT COUNT(*) FROM {self._table(db)} WHERE {where}"  # noqa: S608
        return self._rows(db, sql, [self.param(db, n, v) for n, v in equal.items()])[0][0]

    def param(self, db: BaseDatabaseWrapper, name: str, value: object) -> Any:
        """`value` as the database adapter takes it for field `name` (type per backend)."""
        target = self._targets.get(name)
        if target is None:
            model_field = _concrete(self.model._meta.get_field(name))
            target = self._targets[name] = getattr(model_field, "target_field", model_field)
        return target.get_db_prep_value(value, db)

    # Only the model's identifiers are in the statements; every value is a %s parameter.

    def _table(self, db: BaseDatabaseWrapper) -> str:
        return db.ops.quote_name(self.model._meta.db_table)

    def _columns(self, db: BaseDatabaseWrapper) -> str:
        table = self._table(db)
        return ", ".join(f"{table}.{db.ops.quote_name(_column(f))}" for f in self.fields)

    def _select(self, db: BaseDatabaseWrapper) -> str:
        return f"SELECT {self._columns(db)} FROM {self._table(db)}"  # noqa: S608

    def _column(self, db: BaseDatabaseWrapper, name: str) -> str:
        field = self.model._meta.get_field(name)
        return f"{self._table(db)}.{db.ops.quote_name(_column(field))}"

    def _where(self, db: BaseDatabaseWrapper, names: tuple[str, ...], null: tuple[str, ...]) -> str:
        return " AND ".join(
            [f"{self._column(db, name)} = %s" for name in names]
            + [f"{self._column(db, name)} IS NULL" for name in null]
        )

    def _order(self, db: BaseDatabaseWrapper) -> str:
        return ", ".join(
            self._column(db, name.lstrip("-")) + (" DESC" if name.startswith("-") else " ASC")
            for name in self.ordering
        )

    def fetch_joined(
        self,
        other: ModelSelect,
        on: tuple[str, str],
        equal: dict[str, object],
        *,
        null: tuple[str, ...] = (),
        other_equal: dict[str, object] | None = None,
        outer: bool = False,
    ) -> list[tuple[Any, Any | None]]:
        """fetch(), each instance with the row of `other` where this model's field on[0]
        equals other's on[1]: one query instead of two. With `outer` (a LEFT JOIN) an
        instance without one comes with None; ordered by both models' Meta.ordering.

        On PostgreSQL each query costs the web process about 0.2 ms of psycopg's own
        work, whatever it reads: a third of a one-process read (docs/performance.md)."""
        db = connections[DEFAULT_DB_ALIAS]
        other_equal = other_equal or {}
        key = ("join", db.vendor, id(other), on, tuple(equal), null, tuple(other_equal), outer)
        sql = self._texts.get(key)
        if sql is None:
            where = self._where(db, tuple(equal), null)
            if other_equal:
                where += " AND " + other._where(db, tuple(other_equal), ())
            join = "LEFT OUTER JOIN" if outer else "INNER JOIN"
            condition = f"{self._column(db, on[0])} = {other._column(db, on[1])}"
            sql = self._texts[key] = (
                f"SELECT {self._columns(db)}, {other._columns(db)} "  # noqa: S608
                f"FROM {self._table(db)} {join} {other._table(db)} ON {condition} "
                f"WHERE {where} ORDER BY {self._order(db)}, {other._order(db)}"
            )
        params = [self.param(db, n, v) for n, v in equal.items()]
        params += [other.param(db, n, v) for n, v in other_equal.items()]
        rows = self._rows(db, sql, params)
        width = len(self.fields)
        pk = other.attnames.index(other.model._meta.pk.attname)
        mine = self._instances(db, [row[:width] for row in rows])
        present = [row[width:] for row in rows if row[width + pk] is not None]
        theirs = iter(other._instances(db, present))
        return [
            (instance, next(theirs) if row[width + pk] is not None else None)
            for instance, row in zip(mine, rows, strict=True)
        ]

    def _rows(self, db: BaseDatabaseWrapper, sql: str, params: list[Any]) -> list[tuple]:
        with db.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def _run(self, db: BaseDatabaseWrapper, sql: str, params: list[Any]) -> list[Any]:
        return self._instances(db, self._rows(db, sql, params))

    def _instances(self, db: BaseDatabaseWrapper, rows: Sequence[Sequence[Any]]) -> list[Any]:
        converters = self._converters.get(db)
        if converters is None:
            converters = [
                db.ops.get_db_converters(column) + f.get_db_converters(db)
                for f, column in zip(self.fields, self.columns, strict=True)
            ]
            self._converters[db] = converters
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
                    values[i] = convert(values[i], column, db)
            if direct:
                instance = model.__new__(model)
                state = ModelState()
                state.adding = False
                state.db = db.alias
                instance._state = state
                instance.__dict__.update(zip(self.attnames, values, strict=True))
            else:
                instance = model.from_db(db.alias, self.attnames, values)
            made.append(instance)
        return made


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
    equal: dict[str, object] = {"application": application.id}
    if user_id is not None:
        equal["user_id"] = user_id
    start = (page - 1) * page_size
    tasks: dict[uuid.UUID, list[RenderTask]]
    if process_id is not None:
        # One process at most: it and its tasks in one query, paged here.
        equal["id"] = process_id
        found: list[FaceEnhancerProcess] = []
        tasks = {}
        for process, task in _PROCESSES.fetch_joined(_TASKS, ("id", "process"), equal, outer=True):
            if process.id not in tasks:
                found.append(process)
                tasks[process.id] = []
            if task is not None:
                tasks[process.id].append(task)
        items = found[start : start + page_size]
        return ProcessPage(
            items=items, page=page, page_size=page_size, total_count=len(found), tasks=tasks
        )
    items = _PROCESSES.fetch(equal, page=(page_size, start))
    if items and len(items) < page_size:
        total = start + len(items)  # a last page that is not full tells the count
    else:
        total = _PROCESSES.count(equal)
    tasks = {item.id: [] for item in items}
    if items:
        for task in _TASKS.fetch_in("process", list(tasks)):
            tasks[task.process_id].append(task)
    return ProcessPage(items=items, page=page, page_size=page_size, total_count=total, tasks=tasks)
