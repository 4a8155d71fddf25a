"""Django's own admin tests run against fastadmin (``make test-django-admin``; see ``run.py``)."""
