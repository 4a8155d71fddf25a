"""``{% repost_in_form fields %}…{% endrepost_in_form %}``: stock's delete confirmation, plus hidden fields.

Stock's ``admin/delete_selected_confirmation.html`` has no block inside its form, and its ``content``
block changes between Django versions (6.1 truncates long lists, for one). Rather than copy one version
of that block, fastadmin renders it unchanged (``{{ block.super }}``) and adds its hidden fields (the page
token the stale-selection guard checks at "Yes") just before the first ``</form>``. A page without a
form (the "cannot delete" refusal) is left as it is. ``tests/test_delete_action.py`` fails if stock's
page ever stops re-posting them.
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


class RepostInFormNode(template.Node):
    def __init__(self, nodelist: template.NodeList, fields: template.base.FilterExpression) -> None:
        self.nodelist = nodelist
        self.fields = fields

    def render(self, context: template.Context) -> SafeString:
        html = self.nodelist.render(context)
        fields = self.fields.resolve(context) or []
        head, form_end, tail = html.partition("</form>")
        if not fields or not form_end:
            return html
        inputs = format_html_join("", '<input type="hidden" name="{}" value="{}">\n', fields)
        # Safe: ``html`` is the template's own (escaped) output, ``inputs`` is built with format_html.
        return mark_safe(head + inputs + form_end + tail)


@register.tag
def repost_in_form(parser: template.base.Parser, token: template.base.Token) -> RepostInFormNode:
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError(f"{bits[0]} takes one argument: a list of (name, value) pairs")
    nodelist = parser.parse(("endrepost_in_form",))
    parser.delete_first_token()
    return RepostInFormNode(nodelist, parser.compile_filter(bits[1]))
