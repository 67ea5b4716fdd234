from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from django.utils.text import capfirst


class LabelledInlineFormSet(BaseInlineFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        for name, field in form.fields.items():
            field.widget.attrs.setdefault("aria-label", capfirst(field.label or name))


class LabelledTabularInline(admin.TabularInline):
    """A tabular inline whose inputs (the delete box too) are named for screen readers: Django's
    rows show the column header above them, no label of their own (axe: every field needs one)."""

    formset = LabelledInlineFormSet


class ReadOnlyInline(admin.TabularInline):
    """An inline that shows history or derived rows: nothing added, changed or deleted."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False
