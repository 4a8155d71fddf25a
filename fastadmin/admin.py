"""fastadmin's own models on ``fastadmin.site`` (imported by the admin's autodiscover)."""

from .jobs.admin import JobAdmin
from .models import Job
from .sites import site

if not site.is_registered(Job):
    site.register(Job, JobAdmin)
