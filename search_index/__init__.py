"""fastadmin.search_index: admin search that stays fast on tens of millions of rows."""
