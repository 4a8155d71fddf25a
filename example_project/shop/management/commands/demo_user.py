"""``manage.py demo_user``: make sure the demo superuser exists and print how to log in."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

USERNAME = "admin"
PASSWORD = "admin"


def ensure_demo_user(using: str = "default", username: str = USERNAME, password: str = PASSWORD) -> str:
    """Create (or repair) the superuser ``username``/``password``; return a one-line login hint."""
    User = get_user_model()
    user = User._default_manager.db_manager(using).filter(username=username).first()
    if user is None:
        User._default_manager.db_manager(using).create_superuser(username, "admin@example.com", password)
        state = "created"
    else:
        if not (user.is_staff and user.is_superuser and user.is_active and user.check_password(password)):
            user.is_staff = user.is_superuser = user.is_active = True
            user.set_password(password)
            user.save(using=using)
        state = "exists"
    return f"Demo login ({state}): username '{username}', password '{password}'"


class Command(BaseCommand):
    help = "Create the demo superuser admin/admin if missing and print the login."

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default")

    def handle(self, *args, database, **options):
        self.stdout.write(ensure_demo_user(using=database))
