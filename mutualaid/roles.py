"""Staff roles of SPEC 1 and the model permissions each one holds.

The groups are created by a data migration; their permissions are (re)granted after every
migrate, so a permission added here or by a new model reaches the group without a new migration.
Entries are "app_label.codename"; a codename whose model does not exist yet is skipped.
"""

INVESTIGATORS, ADJUDICATORS, OPERATORS = "investigators", "adjudicators", "operators"
# Investigators and adjudicators work on the same claims, deciding different steps.
REVIEWER_PERMISSIONS = [
    "claims.view_claim",
    "claims.change_claim",
    "claims.view_evidence",
    "claims.view_claimevent",
    "members.view_membershipstatuschange",
    "members.view_membership",
    "members.view_person",
    "pools.view_pool",
    "pools.view_condition",
]

ROLE_PERMISSIONS = {
    INVESTIGATORS: REVIEWER_PERMISSIONS,
    ADJUDICATORS: REVIEWER_PERMISSIONS,
    OPERATORS: [
        "pools.view_pool",
        "pools.change_pool",
        "pools.view_ruleversion",
        "pools.add_ruleversion",
        "pools.view_winddown",
        "claims.view_sponsoredscheme",
        "claims.add_sponsoredscheme",
        "claims.change_sponsoredscheme",
        "members.view_membership",
        "members.add_membership",
        "apportionment.view_batch",
        "apportionment.view_batchclaim",
        "apportionment.view_chunk",
        "members.view_membershipstatuschange",
        "apportionment.add_batch",
        "apportionment.change_batch",
        "django_celery_beat.view_periodictask",
        "django_celery_beat.change_periodictask",
        "mutualaid.view_heartbeat",
    ],
}


def sync_role_permissions(sender=None, apps=None, **kwargs):
    from django.contrib.auth.models import Group, Permission

    for group_name, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        wanted = []
        for dotted in perms:
            app_label, codename = dotted.split(".", 1)
            wanted += Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            )
        group.permissions.add(*wanted)


def has_role(user, role: str) -> bool:
    """A signed-in staff user in the role's group."""
    return (
        user is not None
        and user.is_authenticated
        and user.is_staff
        and user.groups.filter(name=role).exists()
    )
