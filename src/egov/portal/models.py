from egov.portal.feedback_models import Feedback, FeedbackStatus, FeedbackTopic  # noqa: F401
