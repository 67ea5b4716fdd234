"""The membership lifecycle of SPEC 3 as one transition table; each transition names its actor.

A person's transitions (the member's own withdraw and reinstate, the investigator's
end-in-waiting through the claim workflow) go through members.services.change_membership_status,
one locked row at a time; the system's (sweeps, collection, lapses, payouts) go through
members.bulk.bulk_change_status, set-based. Each entry point refuses the other kind, and both
move only memberships in one of the transition's source states.
"""

from django.utils.translation import gettext_lazy

from members.models import Membership
from mutualaid.roles import INVESTIGATORS
from mutualaid.transitions import Transition

S = Membership.Status
MEMBER, INVESTIGATOR, SYSTEM = "member", INVESTIGATORS, "system"
OPEN = (S.WAITING, S.ACTIVE, S.SUSPENDED)


TRANSITIONS: dict[str, Transition] = {
    "activate": Transition(
        (S.WAITING,), S.ACTIVE, SYSTEM, gettext_lazy("Observation period ended")
    ),
    "suspend": Transition(
        (S.WAITING, S.ACTIVE), S.SUSPENDED, SYSTEM, gettext_lazy("Suspended: a charge unpaid")
    ),
    "reactivate": Transition(
        (S.SUSPENDED,), S.ACTIVE, SYSTEM, gettext_lazy("Active again: charges paid")
    ),
    "lapse": Transition(
        (S.SUSPENDED,), S.LAPSED, SYSTEM, gettext_lazy("Lapsed: unpaid after the retry window")
    ),
    "expire": Transition(OPEN, S.EXPIRED, SYSTEM, gettext_lazy("Reached the pool's exit age")),
    # A payout ends the membership, whatever its charges (a suspended member is paid too).
    "pay_out": Transition(OPEN, S.PAID_OUT, SYSTEM, gettext_lazy("Claim paid out")),
    "end_in_waiting": Transition(
        OPEN,
        S.ENDED_IN_WAITING,
        INVESTIGATOR,
        gettext_lazy("Ended: illness first diagnosed in the observation period"),
    ),
    # After a wind-down's last claim window (pools.winddown.close_ended_wind_downs).
    "close_pool": Transition(OPEN, S.POOL_CLOSED, SYSTEM, gettext_lazy("Ended: the pool closed")),
    "withdraw": Transition(OPEN, S.WITHDRAWN, MEMBER, gettext_lazy("Withdrawn by the member")),
    "reinstate": Transition((S.LAPSED,), S.ACTIVE, MEMBER, gettext_lazy("Reinstated")),
    "reinstate_in_waiting": Transition(
        (S.LAPSED,), S.WAITING, MEMBER, gettext_lazy("Reinstated, still in the observation period")
    ),
}
