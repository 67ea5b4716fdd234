"""The operator's draft of a new version of a pool's rules (pools.admin)."""

import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from pools.models import Condition, RuleVersion
from pools.rules import NUMBERS

BAND = re.compile(r"^\s*(\d{1,3})\s*[-–]\s*(\d{1,3})\s*:?\s*¥?\s*([\d,]{1,15}(?:\.\d{1,2})?)\s*$")


def schedule_text(schedule) -> str:
    """The benefit schedule as the form shows it: one band a line, `0-39: 300000.00`."""
    return "\n".join(f"{low}-{high}: {Decimal(payout) / 100:.2f}" for low, high, payout in schedule)


class RuleVersionForm(forms.ModelForm):
    conditions = forms.ModelMultipleChoiceField(
        label=_("covered conditions"),
        queryset=Condition.objects.order_by("code"),
        to_field_name="code",
        widget=forms.SelectMultiple(attrs={"size": 12}),
    )
    schedule = forms.CharField(
        label=_("benefit schedule"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        help_text=_(
            "One age band a line: ages at diagnosis and the payout in yuan (0-39: 300000.00)."
        ),
    )
    note = forms.CharField(
        label=_("what changed and why"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    annual_cap = forms.DecimalField(
        label=_("annual cap (¥)"), min_value=0, max_digits=12, decimal_places=2
    )

    class Meta:
        model = RuleVersion
        fields = ["effective_on", "note", *[n for n in NUMBERS if n != "annual_cap_cents"]]
        widgets = {
            "effective_on": forms.DateInput(attrs={"type": "date"}),
        }
        labels = {"fee_rate_bp": _("management fee (basis points: 800 = 8 %)")}

    @classmethod
    def prefilled(cls, values: dict):
        """A form holding a draft's values (pools.rule_changes.draft_rule_version)."""
        initial = {
            **values,
            "conditions": values["condition_codes"],
            "schedule": schedule_text(values["benefit_schedule"]),
            "annual_cap": Decimal(values["annual_cap_cents"]) / 100,
        }
        return cls(initial=initial)

    def clean_schedule(self):
        bands = []
        for line in self.cleaned_data["schedule"].splitlines():
            if not line.strip():
                continue
            match = BAND.match(line)
            if not match:
                raise ValidationError(
                    _("Cannot read %(line)s: write a band as 0-39: 300000.00.") % {"line": line}
                )
            try:
                payout = int(Decimal(match[3].replace(",", "")) * 100)
            except InvalidOperation as exc:
                raise ValidationError(
                    _("Cannot read the payout in %(line)s.") % {"line": line}
                ) from exc
            bands.append([int(match[1]), int(match[2]), payout])
        return bands

    def rule_values(self) -> dict:
        """The cleaned form as pools.rule_changes.publish_rule_version takes its values."""
        data = self.cleaned_data
        return {
            **{name: data[name] for name in NUMBERS if name != "annual_cap_cents"},
            "annual_cap_cents": int(data["annual_cap"] * 100),
            "condition_codes": [c.code for c in data["conditions"]],
            "benefit_schedule": data["schedule"],
        }
