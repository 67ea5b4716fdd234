from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from django.utils.text import capfirst

from mutualaid.templatetags.money import cents


class LabelledInlineFormSet(BaseInlineFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        for name, field in form.fields.items():
            field.widget.attrs.setdefault("aria-label", capfirst(field.label or name))


class LabelledTabularInline(admin.TabularInline):
    """A tabular inline whose inputs (the delete box too) are named for screen readers: Django's
    rows show the column header above them, no label of their own (axe: every field needs one)."""

    formset = LabelledInlineFormSet


def yuan(value) -> str:
    """Integer cents as the admin shows money: ¥300,000.00 (blank when there is none)."""
    return "" if value is None else f"¥{cents(value)}"


def money_fields(model_admin, model, names, labels):
    """Show every `*_cents` field among `names` as yuan on `model_admin` (a display named
    without the suffix, described by `labels[name]`, or the field's own name without
    "cents"); returns the field list to show."""
    fields = []
    for name in names:
        if not name.endswith("_cents"):
            fields.append(name)
            continue

        def display(self, obj, name=name):
            return yuan(getattr(obj, name))

        display_name = name.removesuffix("_cents")
        field = model._meta.get_field(name)
        label = labels.get(name) or field.verbose_name.removesuffix(" cents")
        setattr(model_admin, display_name, admin.display(description=label)(display))
        fields.append(display_name)
    return fields


class ReadOnlyInline(admin.TabularInline):
    """An inline that shows history or derived rows: nothing added, changed or deleted."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False
