from decimal import Decimal

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext_lazy as _

from members.models import Person
from pools.models import Pool


class JoinForm(forms.Form):
    pool = forms.ModelChoiceField(queryset=Pool.objects.filter(is_open=True), label=_("Pool"))
    person = forms.ModelChoiceField(
        queryset=Person.objects.none(),
        required=False,
        label=_("Who joins"),
        empty_label=_("Someone new (fill in below)"),
    )
    relationship = forms.ChoiceField(
        choices=Person.Relationship.choices, required=False, label=_("Relationship to you")
    )
    full_name = forms.CharField(max_length=100, required=False, label=_("Full name"))
    sex = forms.ChoiceField(choices=Person.Sex.choices, required=False, label=_("Sex"))
    birth_date = forms.DateField(
        required=False, label=_("Date of birth"), widget=forms.DateInput(attrs={"type": "date"})
    )
    # Longer than 18: spaces are allowed in what is typed, and removed (members.identity).
    identity_number = forms.CharField(
        max_length=40, required=False, label=_("Resident identity number")
    )
    province = forms.CharField(max_length=50, required=False, label=_("Province"))
    declaration = forms.BooleanField(
        required=False,
        label=_(
            "I declare this person has none of the pre-existing conditions listed in the rules."
        ),
    )
    rules = forms.BooleanField(required=False, label=_("I have read and accept the pool rules."))

    NEW_PERSON_FIELDS = (
        "relationship",
        "full_name",
        "sex",
        "birth_date",
        "identity_number",
        "province",
    )

    def __init__(self, *args, account=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = Person.objects.filter(account=account)

    def clean(self):
        data = super().clean()
        if not data.get("person"):
            for name in self.NEW_PERSON_FIELDS:
                if not data.get(name):
                    self.add_error(name, _("Required for a new person."))
        return data


class TopUpForm(forms.Form):
    amount = forms.DecimalField(
        min_value=Decimal("0.01"),
        max_value=Decimal("100000"),
        decimal_places=2,
        label=_("Amount (¥)"),
    )

    def amount_cents(self) -> int:
        return int(self.cleaned_data["amount"] * 100)


class SignupForm(UserCreationForm):
    """An account needs an email address (verified by a link before we write to it)."""

    email = forms.EmailField(label=_("Email"), help_text=_("We send a link to confirm it."))

    class Meta(UserCreationForm.Meta):
        fields = ("username", "email")

    def save(self, commit=True):
        user = super().save(commit=False)
        user.email = ""  # not ours to use until its link is opened
        if commit:
            user.save()
        return user


class EmailForm(forms.Form):
    email = forms.EmailField(label=_("New email address"))
