"""Admin search backends, query parsing and the index plan, installed as ``fastadmin.search_index``."""
