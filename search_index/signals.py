"""Model signals that feed the outbox, connected per sender (only indexed and related models).

Connecting without a sender would make every model "have delete listeners", which turns Django's
fast ``DELETE ... WHERE`` cascade into per-object deletes for the whole project; so receivers are
connected to the models the registry names, and reconnected when settings change.
"""

from __future__ import annotations

from typing import Any

from django.core.signals import setting_changed
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save

from .documents import registry
from .outbox import DELETE, UPSERT, dependents_of, mark, record

_connected: list[tuple[Any, Any, str]] = []


def _uid(signal_name: str, model: Any) -> str:
    return f"fastadmin.search_index:{signal_name}:{model._meta.label_lower}"


def on_save(sender, instance, raw=False, using=None, **kwargs) -> None:
    if raw:
        return  # loaddata: a reindex covers fixtures
    record(sender, [instance.pk], UPSERT, using=using)
    _mark_dependents(sender, instance, using, "save")


def on_pre_save(sender, instance, raw=False, using=None, **kwargs) -> None:
    """Documents reading this row through a reverse relation before it moves (e.g. to another parent)."""
    if raw or instance.pk is None:
        return
    _mark_dependents(sender, instance, using, "pre_save")


def on_pre_delete(sender, instance, using=None, **kwargs) -> None:
    # Before the delete: afterwards SET_NULL has cut the relation the dependents are found through.
    _mark_dependents(sender, instance, using, "delete")


def on_delete(sender, instance, using=None, **kwargs) -> None:
    record(sender, [instance.pk], DELETE, using=using)


def on_m2m(sender, instance, action, reverse, model, pk_set, using=None, **kwargs) -> None:
    if action not in ("post_add", "post_remove", "pre_clear", "post_clear"):
        return
    if action != "pre_clear":
        record(type(instance), [instance.pk], UPSERT, using=using)
    if action == "pre_clear":
        # pk_set is None for clear: the other side's rows are the ones linked right now.
        accessor = _m2m_accessor(sender, instance, reverse)
        if accessor is not None:
            mark(getattr(instance, accessor).all(), own=True)
    elif pk_set:
        record(model, pk_set, UPSERT, using=using)


def _m2m_accessor(through: Any, instance: Any, reverse: bool) -> str | None:
    for field in type(instance)._meta.get_fields():
        remote = getattr(field, "remote_field", None)
        if field.many_to_many and getattr(remote, "through", None) is through:
            return field.get_accessor_name() if field.auto_created else field.name
    return None


def _mark_dependents(model: Any, instance: Any, using: str | None, event: str) -> None:
    if dependents_of(model, event):
        mark(model._base_manager.db_manager(using).filter(pk=instance.pk), own=False, event=event)


def connect() -> None:
    """(Re)connect the receivers to the models the current registry indexes or reads."""
    disconnect()
    registry.cache_clear()
    indexed = {spec.model for spec in registry().values()}
    related = {d.related_model for spec in registry().values() for d in spec.dependencies}
    for model in indexed | related:
        _connect(post_save, on_save, model)
        _connect(pre_delete, on_pre_delete, model)
        _connect(post_delete, on_delete, model)
    for model in related:
        _connect(pre_save, on_pre_save, model)
    for model in indexed | related:
        for field in model._meta.many_to_many:
            _connect(m2m_changed, on_m2m, field.remote_field.through)


def _connect(signal, receiver, sender) -> None:
    uid = _uid(receiver.__name__, sender)
    signal.connect(receiver, sender=sender, dispatch_uid=uid, weak=False)
    _connected.append((signal, sender, uid))


def is_connected(model: Any) -> bool:
    """Whether :func:`connect` connected the outbox receivers to ``model`` (checked by W302)."""
    return any(signal is post_save and sender is model for signal, sender, _uid in _connected)


def disconnect() -> None:
    while _connected:
        signal, sender, uid = _connected.pop()
        signal.disconnect(sender=sender, dispatch_uid=uid)


def _on_setting_changed(setting: str, **kwargs) -> None:
    if setting == "FASTADMIN":
        connect()


setting_changed.connect(_on_setting_changed, dispatch_uid="fastadmin.search_index.signals")
