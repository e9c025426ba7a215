"""egov's own locale formats (``FORMAT_MODULE_PATH``), read before Django's for the names they define."""
