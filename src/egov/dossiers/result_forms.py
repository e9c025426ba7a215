"""Forms of the public verification page: a result code, or a PDF to upload."""
from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from egov.dossiers import result_rules
from egov.kernel.text import megabytes


class CodeForm(forms.Form):
    code = forms.CharField(label=_("Result code"), max_length=40,
                           help_text=_("The code printed on the result, e.g. 7K3M-Q9XA-2BCD-EF01."))

    def clean_code(self):
        code = result_rules.normalise(self.cleaned_data["code"])
        if code is None:
            raise forms.ValidationError(_("A result code has 16 letters and digits, in four groups of four."))
        return code


def read_pdf(upload) -> bytes:
    """The uploaded file's bytes if it is a PDF within the size limit; a ValidationError that says which not."""
    limit = settings.RESULT_VERIFY_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise forms.ValidationError(_("The file is %(size)s MB; files may be at most %(limit)s MB.")
                                    % {"size": megabytes(upload.size), "limit": megabytes(limit)})
    content = upload.read(limit + 1)
    if len(content) > limit:
        raise forms.ValidationError(_("The file is larger than %(limit)s MB.") % {"limit": megabytes(limit)})
    if not content:
        raise forms.ValidationError(_("The file is empty."))
    if b"%PDF-" not in content[:1024]:
        raise forms.ValidationError(_("This file is not a PDF (whatever its name says). Upload the result's PDF "
                                      "file as you received it."))
    return content


class UploadForm(forms.Form):
    file = forms.FileField(label=_("Result file (PDF)"), allow_empty_file=True,
                           help_text=_("The PDF exactly as you received it."),
                           widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}))

    def clean_file(self):
        return read_pdf(self.cleaned_data["file"])
