"""Admin search backends, installed as ``fastadmin.search_index``."""
