"""Background actions: an admin action over millions of rows runs as a Celery task, chunk by chunk.

==============  ====================================================================================
``strategies``  what one chunk does (:class:`BackgroundAction`: update, delete, call the action)
``selection``   the selection as what produced it (query string, ids shown, page token, user), and
                the queryset rebuilt from it in the worker through the ModelAdmin, as that user
``launch``      the request side: when an action leaves the request, the :class:`~fastadmin.models.Job`
                row, the admin log entry, the redirect to the job page; ``@fastadmin.action(background=True)``
``runner``      the worker side: claim, keyset chunks each committed with the job's checkpoint, cancel,
                heartbeat, and the sweep that hands a silent job to a new run
``admin``       the job pages (progress, JSON, Cancel) under fastadmin on the site
==============  ====================================================================================

The Celery tasks live in ``fastadmin.tasks`` (``tasks/actions.py``).
"""

from .launch import action, start_job, wants_background
from .strategies import BackgroundAction, CallAction, ChunkResult, DeleteRows, UpdateRows

__all__ = ["BackgroundAction", "CallAction", "ChunkResult", "DeleteRows", "UpdateRows", "action", "start_job",
           "wants_background"]
