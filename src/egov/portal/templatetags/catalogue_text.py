"""Catalogue content in a page of another language.

Procedures, their documents, fees and agencies are published in Vietnamese only (the catalogue is the law's text); a
page in English shows them as they are, marked ``lang="vi"`` so that a screen reader reads them with Vietnamese
pronunciation instead of spelling them out as English (WCAG 3.1.2, language of parts)."""
from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.translation import get_language

register = template.Library()

CATALOGUE_LANGUAGE = "vi"


def page_in_catalogue_language() -> bool:
    return (get_language() or CATALOGUE_LANGUAGE).split("-")[0] == CATALOGUE_LANGUAGE


@register.filter
def in_vietnamese(value):
    """``{{ procedure.name|in_vietnamese }}``: the value escaped, in a ``<span lang="vi">`` on a page in another
    language."""
    if value in (None, "") or page_in_catalogue_language():
        return conditional_escape(value if value is not None else "")
    return format_html('<span lang="{}">{}</span>', CATALOGUE_LANGUAGE, value)


@register.simple_tag
def catalogue_lang():
    """`` lang="vi"`` (with its leading space) for an element whose content is catalogue text, on a page in another
    language; nothing on a Vietnamese page. ``<div{% catalogue_lang %}>``."""
    if page_in_catalogue_language():
        return ""
    return format_html(' lang="{}"', CATALOGUE_LANGUAGE)
