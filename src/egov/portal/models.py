from egov.portal.apply_models import Draft, DocumentReuse, DraftFile, StoredDocument  # noqa: F401
from egov.portal.feedback_models import Feedback, FeedbackStatus, FeedbackTopic  # noqa: F401
