"""Forms of the feedback pages and of the public dossier look-up: they parse; the services decide, and their
``InvalidInput`` comes back beside the fields (``ServiceErrorsMixin``)."""
from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from egov.dossiers.forms import ServiceErrorsMixin
from egov.kernel.text import fold
from egov.portal.feedback_models import FeedbackTopic
from egov.portal.feedback_services import id_number_digits
from egov.registries import queries as registry_queries


# What may be typed for a personal ID number: its 12 digits with a separator between each, and some room.
ID_NUMBER_TYPED = 30
AGENCY_TYPED = 255  # the longest agency name


class AgencyPicker(forms.Widget):
    """The concerned agency, named by typing part of its name (diacritics optional), never chosen from a list of the
    country's tens of thousands. Three inputs: ``<name>_name``, the text typed; ``<name>``, the organisation code of
    the agency whose name the text box shows (set when one was recognised, or chosen from the suggestions); and,
    after a name that several agencies match, ``<name>_choice``, radio buttons for those agencies. With JavaScript
    (``portal/agency-picker.js``) the text box is a combobox suggesting agencies as one types
    (``portal:feedback_agencies``); without, the form's own submission finds them (``AgencyField``). The form keeps
    its rounds' outcome here for the page: the agency recognised, or the agencies to choose from."""

    template_name = "portal/feedback/agency_picker.html"
    picked = None        # the agency recognised: its name goes in the text box, its code in the hidden input
    matches = ()         # the agencies a name matched, to choose from
    more = False         # whether more agencies match than are listed

    def value_from_datadict(self, data, files, name):
        return {"name": str(data.get(f"{name}_name") or ""), "code": str(data.get(name) or ""),
                "choice": str(data.get(f"{name}_choice") or "")}

    def value_omitted_from_data(self, data, files, name):
        return not any(key in data for key in (name, f"{name}_name", f"{name}_choice"))

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        typed = value if isinstance(value, dict) else {}
        context["picker"] = {
            "text": self.picked.name if self.picked else typed.get("name", ""),
            "code": self.picked.code if self.picked else "",
            "matches": self.matches, "more": self.more, "maxlength": AGENCY_TYPED,
            "url": reverse("portal:feedback_agencies")}
        return context


class AgencyField(forms.Field):
    """Parses what the picker posted into (chosen code, code shown, text typed); ``FeedbackForm.clean_agency``
    decides which agency it names."""

    widget = AgencyPicker

    def to_python(self, value):
        value = value if isinstance(value, dict) else {}
        return {"choice": value.get("choice", "").strip(), "code": value.get("code", "").strip(),
                "name": " ".join(value.get("name", "").split())[:AGENCY_TYPED]}


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
    agency = AgencyField(label=_("Concerned agency"), required=False,
                         help_text=_("If it is about a regulation or procedure: type part of the agency's name, "
                                     "with or without diacritics, e.g. “tu phap nghe an”."))
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

    def clean_agency(self):
        """Which agency the citizen named. A code chosen among the listed agencies, or the code of the agency whose
        name the text box still shows, is taken (one query); a code no active agency has is refused. Otherwise the
        text typed is looked up by name: one agency named exactly that, or only one whose name holds every word, is
        taken; several are listed to choose from (at most AGENCY_SEARCH_LIMIT); none is said. About a dossier, the
        agency is the dossier's: what was typed is not looked up."""
        typed = self.cleaned_data["agency"]
        picker = self.fields["agency"].widget
        for key in ("choice", "code"):
            if not typed[key]:
                continue
            agency = registry_queries.active_agency(typed[key])
            if agency is None:
                raise forms.ValidationError(_("This is not an agency of the list: type part of its name and choose "
                                              "it again."), code="invalid_choice")
            if key == "choice" or fold(typed["name"]) == fold(agency.name):
                picker.picked = agency
                return agency
            # The text box no longer shows that agency's name: the citizen typed another.
        if not typed["name"] or self.cleaned_data.get("topic") == FeedbackTopic.DOSSIER:
            return None
        found = registry_queries.search_agencies(typed["name"])
        if found.exact == 1 or (len(found.agencies) == 1 and not found.more):
            picker.picked = found.agencies[0]
            return found.agencies[0]
        if not found.agencies:
            raise forms.ValidationError(_("No agency's name contains “%(text)s”. Check the spelling, or type fewer "
                                          "words of the name.") % {"text": typed["name"]}, code="not_found")
        picker.matches, picker.more = found.agencies, found.more
        raise forms.ValidationError(_("Several agencies match “%(text)s”: choose yours from the list below, or type "
                                      "more of its name.") % {"text": typed["name"]}, code="several")

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
