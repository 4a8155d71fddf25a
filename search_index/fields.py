"""What one entry of ``search_fields`` means: the path, the match mode, and the column it lands on.

Read once per search (and by the index plan), so the backend and the plan agree on every field.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models.constants import LOOKUP_SEP

from .query import CONTAINS, FIELD_PREFIXES

LOOKUP = "lookup"  # the entry names its own lookup (``name__iexact``): passed to the ORM unchanged


@dataclass(frozen=True)
class SearchField:
    """One resolved ``search_fields`` entry.

    ``field`` is the model field the path ends on and ``model`` the model that owns it; ``related``
    is true when the path crosses a relation (the condition is then evaluated in a subquery).
    ``field`` is None for a path Django would accept but that does not end on a column.
    """

    spec: str
    path: str
    mode: str
    lookup: str | None
    field: models.Field | None
    model: type[models.Model]
    related: bool

    @property
    def namespace(self) -> str:
        return self.path

    @property
    def is_text(self) -> bool:
        return isinstance(self.field, models.CharField | models.TextField)

    @property
    def column(self) -> str | None:
        """The column the condition reads, when it is a plain column of ``model``."""
        if self.field is None or not getattr(self.field, "concrete", False) or self.field.many_to_many:
            return None
        return self.field.column


def resolve(model: type[models.Model], spec: str) -> SearchField:
    """Resolve a ``search_fields`` entry the way stock ``construct_search`` does.

    Raises ``FieldDoesNotExist`` for a path that names no field (stock admin's own checks and
    queries fail on those too).
    """
    spec = str(spec)
    mode = FIELD_PREFIXES.get(spec[:1], CONTAINS)
    path = spec[1:] if spec[:1] in FIELD_PREFIXES else spec
    opts = model._meta
    owner: type[models.Model] = model
    field: models.Field | None = None
    related = False
    parts = path.split(LOOKUP_SEP)
    for index, part in enumerate(parts):
        if part == "pk":
            part = opts.pk.name
        try:
            next_field = opts.get_field(part)
        except FieldDoesNotExist:
            if field is not None and field.get_lookup(part) and index == len(parts) - 1:
                return SearchField(spec, LOOKUP_SEP.join(parts[:index]), LOOKUP, part, field, owner, related)
            raise
        field = next_field
        owner = opts.model
        if index < len(parts) - 1 and hasattr(field, "path_infos"):
            related = True
            opts = field.path_infos[-1].to_opts
    if field is not None and (field.many_to_many or field.one_to_many or not getattr(field, "concrete", True)):
        related = True  # ends on a relation that joins rows (m2m, reverse FK): may repeat rows
    return SearchField(spec, path, mode, None, field, owner, related)


def label(model: type[models.Model], path: str) -> str:
    """The column's name as staff read it: verbose names along the path ("Customer name" for
    ``customer__name``, "ID" for ``id``), not the ORM path."""
    words, opts = [], model._meta
    for part in path.split(LOOKUP_SEP):
        try:
            field = opts.pk if part == "pk" else opts.get_field(part)
        except FieldDoesNotExist:
            words.append(part)
            break
        words.append(str(getattr(field, "verbose_name", None) or field.name))
        if hasattr(field, "path_infos"):
            opts = field.path_infos[-1].to_opts
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def forward_relation(model: type[models.Model], name: str) -> models.ForeignKey | None:
    """The foreign key (or one-to-one) ``name`` of ``model`` when it is a column of its table."""
    try:
        relation = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    if getattr(relation, "concrete", False) and (relation.many_to_one or relation.one_to_one):
        return relation
    return None
