class SQLiteOnlyTestApp:
    """The SQLite alias holds only the test app's tables (other apps' migrations are PostgreSQL's)."""

    def allow_migrate(self, db, app_label, **hints):
        if db == "sqlite":
            return app_label == "testapp"
        return None
