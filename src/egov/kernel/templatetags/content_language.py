"""Text in another language than the page's (WCAG 3.1.2, language of parts): ``{{ text|in_language:"vi" }}`` is the
text escaped, inside ``<span lang="vi">`` when the page is in another language, so that a screen reader reads it with
the right pronunciation instead of spelling Vietnamese out as English. Catalogue content (procedures, their
documents, e-form questions) is published in Vietnamese only: ``egov.portal``'s ``catalogue_text`` builds on this."""
from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.translation import get_language

register = template.Library()

CATALOGUE_LANGUAGE = "vi"  # procedures, their documents and e-forms are published in Vietnamese only


def page_in(language: str) -> bool:
    """Whether the page being made is in ``language`` (the active language, without its region)."""
    return (get_language() or language).split("-")[0] == language


@register.filter
def in_language(value, language):
    if value in (None, ""):
        return ""
    if not language or page_in(language):
        return conditional_escape(value)
    return format_html('<span lang="{}">{}</span>', language, value)
