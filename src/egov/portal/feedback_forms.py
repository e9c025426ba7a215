"""Forms of the feedback pages and of the public dossier look-up: they parse; the services decide, and their
``InvalidInput`` comes back beside the fields (``ServiceErrorsMixin``)."""
from django import forms
from django.utils.translation import gettext_lazy as _

from egov.dossiers.forms import ServiceErrorsMixin
from egov.portal.feedback_models import FeedbackTopic
from egov.portal.feedback_services import id_number_digits
from egov.registries.models import Agency


# What may be typed for a personal ID number: its 12 digits with a separator between each, and some room.
ID_NUMBER_TYPED = 30


class FeedbackForm(ServiceErrorsMixin, forms.Form):
    topic = forms.ChoiceField(label=_("What is your feedback about?"), choices=FeedbackTopic.choices,
                              widget=forms.RadioSelect, initial=FeedbackTopic.DOSSIER,
                              error_messages={"required": _("Choose what your feedback is about.")})
    dossier_code = forms.CharField(label=_("Dossier code"), required=False, max_length=40,
                                   help_text=_("If it is about a dossier: its code, as printed on the receipt."),
                                   widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}))
    # Checked by the service (it decides when the number is needed: not for the citizen's own dossier).
    id_number = forms.CharField(label=_("Applicant's personal ID number"), required=False, max_length=ID_NUMBER_TYPED,
                                widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
                                error_messages={"max_length": _("This is too long for a personal ID number of 12 "
                                                                "digits.")})
    agency = forms.ModelChoiceField(label=_("Concerned agency"), required=False, queryset=Agency.objects.none(),
                                    empty_label=_("None in particular"),
                                    help_text=_("If it is about a regulation or procedure: the agency concerned."))
    subject = forms.CharField(label=_("Regulation or procedure"), required=False, max_length=300,
                              help_text=_("If it is about a regulation or procedure: its name."))
    text = forms.CharField(label=_("Your feedback or complaint"), max_length=5000,
                           widget=forms.Textarea(attrs={"rows": 6}),
                           error_messages={"required": _("Write your feedback or complaint.")})
    full_name = forms.CharField(label=_("Your name"), required=False, max_length=200,
                                widget=forms.TextInput(attrs={"autocomplete": "name"}))
    email = forms.CharField(label=_("Email address"), required=False, max_length=254,
                            widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    phone = forms.CharField(label=_("Phone number"), required=False, max_length=20,
                            widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}))
    service_fields = {"topic": "topic", "dossier_code": "dossier_code", "id_number": "id_number", "agency": "agency",
                      "subject": "subject", "text": "text", "full_name": "full_name", "email": "email",
                      "phone": "phone"}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = Agency.objects.order_by("name")
        if getattr(user, "is_authenticated", False):
            self.fields["id_number"].help_text = _("Not needed for your own dossiers. About someone else's dossier: "
                                                   "the 12 digits of its applicant's citizen ID card.")
            for name in ("full_name", "email", "phone"):
                self.fields[name].help_text = _("Leave empty to use your account's details.")
        else:
            self.fields["id_number"].help_text = _("If it is about a dossier: the 12 digits of its applicant's "
                                                   "citizen ID card, which show that you may write about it.")
            self.fields["full_name"].help_text = _("Needed so that the agency can answer you.")
            self.fields["email"].help_text = _("An email address or a phone number is needed.")

    def arguments(self) -> dict:
        return dict(self.cleaned_data)


class TextForm(ServiceErrorsMixin, forms.Form):
    """One text field, named as the service names its argument."""
    field_name = "text"
    label = _("Text")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", self.prefix_name)
        super().__init__(*args, **kwargs)
        self.fields[self.field_name] = forms.CharField(label=self.label, max_length=5000,
                                                       widget=forms.Textarea(attrs={"rows": 4}),
                                                       error_messages={"required": self.required_message})
        self.service_fields = {self.field_name: self.field_name}

    prefix_name = None
    required_message = _("Write something here.")

    def arguments(self) -> dict:
        return {self.field_name: self.cleaned_data[self.field_name]}


class AcceptForm(ServiceErrorsMixin, forms.Form):
    prefix_name = "accept"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", self.prefix_name)
        super().__init__(*args, **kwargs)

    def arguments(self) -> dict:
        return {}


class RefuseForm(TextForm):
    prefix_name, field_name, label = "refuse", "reason", _("Reason for refusing (sent to the author)")
    required_message = _("Give the reason for refusing.")


class AskMoreForm(TextForm):
    prefix_name, field_name, label = "ask-more", "question", _("What more information do you need?")
    required_message = _("Say what information you need.")


class AnswerForm(TextForm):
    prefix_name, field_name, label = "answer", "text", _("Answer to the author")
    required_message = _("Write the answer.")


class ReplyForm(TextForm):
    prefix_name, field_name, label = "reply", "text", _("The information asked for")
    required_message = _("Write the information the agency asked for.")


class RecordReplyForm(ServiceErrorsMixin, forms.Form):
    """An officer records the author's answer that came by phone, email, at the desk or by post."""
    prefix_name = "record-reply"
    channel = forms.ChoiceField(label=_("How did the answer reach you?"), choices=(),
                                error_messages={"required": _("Say how the author's answer reached you."),
                                                "invalid_choice": _("Say how the author's answer reached you.")})
    text = forms.CharField(label=_("The author's answer, as given"), max_length=5000,
                           widget=forms.Textarea(attrs={"rows": 4}),
                           error_messages={"required": _("Write the information the agency asked for.")})
    service_fields = {"channel": "channel", "text": "text"}

    def __init__(self, *args, **kwargs):
        from egov.portal.feedback_services import REPLY_CHANNELS

        kwargs.setdefault("prefix", self.prefix_name)
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = [("", "—")] + list(REPLY_CHANNELS.items())

    def arguments(self) -> dict:
        return {"channel": self.cleaned_data["channel"], "text": self.cleaned_data["text"]}


class PublishForm(ServiceErrorsMixin, forms.Form):
    prefix_name = "publish"
    question = forms.CharField(label=_("Question as the public will read it"), max_length=5000,
                               widget=forms.Textarea(attrs={"rows": 3}),
                               help_text=_("Without names, ID numbers, addresses or other personal details."),
                               error_messages={"required": _("Write the question as the public will read it, "
                                                             "without names or personal details.")})
    answer = forms.CharField(label=_("Answer as the public will read it"), max_length=5000,
                             widget=forms.Textarea(attrs={"rows": 4}),
                             error_messages={"required": _("Write the answer as the public will read it.")})
    service_fields = {"question": "question", "answer": "answer"}

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", self.prefix_name)
        super().__init__(*args, **kwargs)

    def arguments(self) -> dict:
        return {"question": self.cleaned_data["question"], "answer": self.cleaned_data["answer"]}


class LookupForm(forms.Form):
    code = forms.CharField(label=_("Dossier code"), max_length=40,
                           help_text=_("As printed on the receipt, e.g. 000.00.12.H29-260302-0001."),
                           widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
                           error_messages={"required": _("Enter the dossier code.")})
    # No length of 12 here: "0360 7200 4321" is 14 characters typed; the digits are counted once the separators are
    # dropped (``clean_id_number``).
    id_number = forms.CharField(label=_("Applicant's personal ID number"), max_length=ID_NUMBER_TYPED,
                                help_text=_("The 12 digits of the applicant's citizen ID card."),
                                widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
                                error_messages={"required": _("Enter the applicant's personal ID number."),
                                                "max_length": _("This is too long for a personal ID number of 12 "
                                                                "digits.")})

    def clean_id_number(self):
        number, problem = id_number_digits(self.cleaned_data["id_number"])
        if problem:
            raise forms.ValidationError(problem)
        return number
