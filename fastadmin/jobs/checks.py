"""System checks of background actions (the integer settings are checked with the others, E003)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register

from ..conf import DEFAULTS


@register(Tags.compatibility)
def check_job_settings(app_configs=None, **kwargs) -> list[Error]:
    user = getattr(settings, "FASTADMIN", {})
    if not isinstance(user, dict):
        return []  # fastadmin.E001
    pause = user.get("BACKGROUND_CHUNK_PAUSE_S", DEFAULTS["BACKGROUND_CHUNK_PAUSE_S"])
    if not isinstance(pause, int | float) or isinstance(pause, bool) or pause < 0:
        return [Error(f"FASTADMIN['BACKGROUND_CHUNK_PAUSE_S'] must be a number of seconds >= 0, not {pause!r}.",
                      hint="0 (the default) runs the chunks back to back.", id="fastadmin.E401")]
    return []
