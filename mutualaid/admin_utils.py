from django.contrib import admin

from mutualaid.templatetags.money import cents


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
