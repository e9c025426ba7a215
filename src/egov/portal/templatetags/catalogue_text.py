"""Catalogue content in a page of another language.

Procedures, their documents, fees and agencies are published in Vietnamese only (the catalogue is the law's text); a
page in English shows them as they are, marked ``lang="vi"`` so that a screen reader reads them with Vietnamese
pronunciation instead of spelling them out as English (WCAG 3.1.2, language of parts)."""
from django import template
from django.utils.html import format_html

from egov.kernel.templatetags.content_language import CATALOGUE_LANGUAGE, in_language, page_in

register = template.Library()


def page_in_catalogue_language() -> bool:
    return page_in(CATALOGUE_LANGUAGE)


@register.filter
def in_vietnamese(value):
    """``{{ procedure.name|in_vietnamese }}``: the value escaped, in a ``<span lang="vi">`` on a page in another
    language."""
    return in_language(value, CATALOGUE_LANGUAGE)


@register.simple_tag
def catalogue_lang():
    """`` lang="vi"`` (with its leading space) for an element whose content is catalogue text, on a page in another
    language; nothing on a Vietnamese page. ``<div{% catalogue_lang %}>``."""
    if page_in_catalogue_language():
        return ""
    return format_html(' lang="{}"', CATALOGUE_LANGUAGE)
