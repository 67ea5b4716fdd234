"""Which writes change which cached page content (mutualaid.pagecache), in one place.

Every ORM save or delete of a row a cached page shows bumps that page's scopes when its
transaction commits. Set-based writes (UPDATE … / INSERT … SELECT, which send no signal) bump
in the service that runs them: members.bulk.bulk_change_status, members.services.top_up_wallet
and end_in_waiting, reports.services.store_root, and apportionment.run_chunk and
daily_retry_and_lapse; each phase of a batch also ends with a saved Batch row.
"""

from django.db.models.signals import post_delete, post_save

from mutualaid.pagecache import MEMBERS, NOTICE, POOLS, REPORTS, bump, member


def _person_account(membership):
    from members.models import Person

    return Person.objects.filter(pk=membership.person_id).values_list("account_id", flat=True)


# model label: the scopes a changed row bumps (a function of the row).
SCOPES = {
    "claims.Notification": lambda row: [member(row.recipient_id)],
    "claims.Claim": lambda row: [member(row.claimant_id), NOTICE],
    "members.Person": lambda row: [member(row.account_id)],
    "members.Membership": lambda row: [member(a) for a in _person_account(row)],
    "ledger.Account": lambda row: [member(row.owner_id)] if row.owner_id else [],
    "notice.JuryVolunteer": lambda row: [member(row.user_id)],
    "notice.Juror": lambda row: [member(row.user_id)],
    "notice.Vote": lambda row: [member(row.juror.user_id)],
    "notice.Panel": lambda row: [MEMBERS],  # its status, on every juror's dashboard
    "apportionment.Batch": lambda row: [MEMBERS, REPORTS],
    "apportionment.BatchClaim": lambda row: [MEMBERS, REPORTS],
    "apportionment.Charge": lambda row: [MEMBERS],
    "pools.Pool": lambda row: [MEMBERS, POOLS, NOTICE, REPORTS],
    "pools.BenefitBand": lambda row: [POOLS],
    "pools.RuleVersion": lambda row: [POOLS],
    "pools.WindDown": lambda row: [MEMBERS, POOLS, REPORTS],
    "pools.Condition": lambda row: [MEMBERS, NOTICE],
}


def changed(sender, instance, **kwargs):
    bump(*SCOPES[sender._meta.label](instance))


def connect():
    for label in SCOPES:
        post_save.connect(changed, sender=label, dispatch_uid=f"pagecache.save.{label}")
        post_delete.connect(changed, sender=label, dispatch_uid=f"pagecache.delete.{label}")
