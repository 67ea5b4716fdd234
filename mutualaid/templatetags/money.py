from django import template

register = template.Library()


@register.filter
def cents(value):
    """Integer cents as yuan with two decimals and thousands separators: 30000000 → 300,000.00."""
    if value is None or value == "":
        return ""
    value = int(value)
    sign = "-" if value < 0 else ""
    yuan, fen = divmod(abs(value), 100)
    return f"{sign}{yuan:,}.{fen:02d}"
