"""`pip install .` into a clean venv gives a working app with no generic top-level packages."""

import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

CHECK = textwrap.dedent(
    """
    import django, pathlib
    from django.conf import settings
    settings.configure(
        INSTALLED_APPS=["django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
                        "django.contrib.sessions", "django.contrib.messages", "fastadmin"],
        TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}],
        DATABASES={}, SECRET_KEY="x",
    )
    django.setup()
    import fastadmin, fastadmin.search_index, fastadmin.tasks
    from django.apps import apps
    from django.template.loader import get_template
    path = pathlib.Path(apps.get_app_config("fastadmin").path)
    assert "site-packages" in str(path), path
    for name in ["fastadmin/change_list.html", "admin/fastadmin/pagination.html", "fastadmin/too_slow.html"]:
        assert "site-packages" in get_template(name).origin.name, name
    print("OK", fastadmin.site.__class__.__name__)
    """
)


@pytest.mark.slow
def test_wheel_installs_into_a_clean_venv(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path / "dist"), str(ROOT)],
        check=True, capture_output=True,
    )
    wheel = next((tmp_path / "dist").glob("fastadmin-*.whl"))
    top_level = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert {name for name in top_level if not name.endswith(".dist-info")} == {"fastadmin"}
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)], check=True, capture_output=True)
    result = subprocess.run([str(python), "-c", CHECK], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "OK FastAdminSite" in result.stdout
