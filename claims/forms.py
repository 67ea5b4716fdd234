from django import forms
from django.utils.translation import gettext_lazy as _

from claims.models import Claim, SponsoredScheme
from members.models import Membership
from pools.models import Condition

EVIDENCE_LABEL = _("Evidence (PDF, JPEG or PNG, at most 10 MB)")


class EvidenceForm(forms.Form):
    file = forms.FileField(label=EVIDENCE_LABEL)


class ClaimForm(forms.ModelForm):
    file = forms.FileField(required=False, label=EVIDENCE_LABEL)

    class Meta:
        model = Claim
        fields = [
            "membership",
            "condition",
            "scheme",
            "cause",
            "diagnosis_date",
            "hospital",
            "province",
            "description",
        ]
        widgets = {"diagnosis_date": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, account=None, **kwargs):
        super().__init__(*args, **kwargs)
        memberships = Membership.objects.filter(person__account=account).select_related(
            "person", "pool"
        )
        self.fields["membership"].queryset = memberships
        self.fields["condition"].queryset = Condition.objects.filter(
            pools__memberships__in=memberships
        ).distinct()
        self.fields["scheme"].queryset = SponsoredScheme.objects.filter(
            pool__memberships__in=memberships
        ).distinct()


class DraftForm(ClaimForm):
    """A saved draft's details; files are added with EvidenceForm."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["file"]
