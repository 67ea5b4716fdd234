"""One row of a state machine's transition table (claims.workflow, members.transitions)."""

from dataclasses import dataclass

from django.utils.functional import Promise


@dataclass(frozen=True)
class Transition:
    sources: tuple[str, ...]
    target: str
    actor: str  # the one kind of actor that may make it (a role, the owner, or "system")
    label: Promise  # what a person reads
    note_required: bool = False
