from django import template

from pools.names import province_name

register = template.Library()


@register.filter
def province(value):
    """{{ person.province|province }}: the province in the page's language."""
    return province_name(value)
