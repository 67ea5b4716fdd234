from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from statements import services


class YearForm(forms.Form):
    """The statement's year, from the query string (empty: this year)."""

    year = forms.CharField(required=False, max_length=10, label=_("Year"))

    def clean_year(self) -> int:
        try:
            return services.statement_year(self.cleaned_data.get("year"))
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc
