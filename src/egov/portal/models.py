from egov.portal.apply_models import Draft, DocumentReuse, DraftFile, StoredDocument  # noqa: F401
