from django import forms
from django.utils.translation import gettext_lazy as _

from notice.models import MAX_REASON, MIN_REASON, Panel


class ObjectionForm(forms.Form):
    reason = forms.CharField(
        label=_("Your objection"),
        min_length=MIN_REASON,
        max_length=MAX_REASON,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("At least 20 characters. It is published without your name."),
    )


class VoteForm(forms.Form):
    choice = forms.ChoiceField(
        label=_("Your vote"), choices=Panel.Outcome.choices, widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label=_("Your reason"),
        max_length=MAX_REASON,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Required. It is published on the claim's public record without your name."),
    )


class VolunteerForm(forms.Form):
    accept_rules = forms.BooleanField(label=_("I have read and accept the jury rules."))
