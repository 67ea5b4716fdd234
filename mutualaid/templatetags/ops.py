from django import template

from mutualaid.status import scheduler_status

register = template.Library()


@register.inclusion_tag("admin/scheduler_status.html")
def show_scheduler_status():
    return {"status": scheduler_status()}
