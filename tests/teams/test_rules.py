"""Pure rules and predicates: no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from careteams.teams import permissions as perm
from careteams.teams import rules
from careteams.teams.models import HatStatus, TeamMemberStatus, TeamRole
from careteams.teams.permissions import TeamAccess, TeamPermission

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_normalise_fills_every_section_and_refuses_unknown_ones():
    plan = rules.normalise_sections({"risks": {"text": "  Stairs \r\n at night  ", "shared_with_trial": 1}})
    assert list(plan) == list(rules.PLAN_SECTIONS)
    assert plan["risks"] == {"text": "Stairs \n at night", "shared_with_trial": True}
    assert plan["routines"] == {"text": "", "shared_with_trial": False}
    with pytest.raises(ValueError, match="hobbies"):
        rules.normalise_sections({"hobbies": {"text": "chess"}})
    with pytest.raises(ValueError, match="too long"):
        rules.normalise_sections({"risks": {"text": "x" * (rules.MAX_SECTION_LENGTH + 1)}})


def test_changes_lay_over_the_current_plan():
    current = rules.normalise_sections({"routines": {"text": "Up at eight."}, "risks": {"text": "Stairs."}})
    merged = rules.apply_changes(current, {"risks": {"text": "Rug.", "shared_with_trial": True}})
    assert merged["routines"]["text"] == "Up at eight."
    assert merged["risks"] == {"text": "Rug.", "shared_with_trial": True}
    assert current["risks"]["text"] == "Stairs."  # the input is not changed


def test_compare_marks_changed_sections_only():
    a = rules.normalise_sections({"routines": {"text": "Up at eight."}})
    b = rules.apply_changes(a, {"risks": {"text": "Rug."}, "routines": {"text": "Up at eight.", "shared_with_trial": True}})
    changes = {c.section: c for c in rules.compare_plans(a, b)}
    assert changes["risks"].changed and changes["risks"].before == "" and changes["risks"].after == "Rug."
    assert changes["routines"].changed and changes["routines"].shared_after and not changes["routines"].shared_before
    assert not changes["outcomes"].changed
    assert rules.changed_sections(a, b) == ["routines", "risks"]
    assert rules.changed_sections(b, b) == []


def test_trial_workers_get_only_shared_sections():
    plan = rules.normalise_sections({"what_matters": {"text": "Garden", "shared_with_trial": True},
                                     "personal_care": {"text": "Shower"}})
    assert rules.shared_with_trial(plan) == {"what_matters": {"text": "Garden", "shared_with_trial": True}}


@pytest.mark.parametrize(("status", "expires", "answerable"), [
    (HatStatus.offered, None, True),
    (HatStatus.offered, NOW + timedelta(minutes=1), True),
    (HatStatus.offered, NOW, False),
    (HatStatus.accepted, None, False),
    (HatStatus.declined, None, False),
    (HatStatus.withdrawn, None, False),
])
def test_which_offers_can_be_answered(status, expires, answerable):
    assert rules.hat_answerable(status, expires, NOW) is answerable


def test_paid_workers_start_on_trial_others_join_at_once():
    assert rules.status_on_accepting(TeamRole.paid_worker) == TeamMemberStatus.trial
    for role in rules.DIRECT_INVITE_ROLES:
        assert rules.status_on_accepting(role) == TeamMemberStatus.active
    assert TeamRole.paid_worker not in rules.DIRECT_INVITE_ROLES


def test_default_hats_carry_the_issues_permissions():
    hats = {name: set(perms) for name, _d, perms in rules.DEFAULT_HAT_TYPES}
    assert hats == {
        "Rota wrangler": {TeamPermission.edit_rota, TeamPermission.offer_shifts},
        "Team builder": {TeamPermission.invite_people, TeamPermission.answer_matches, TeamPermission.end_membership},
        "Plan keeper": {TeamPermission.edit_plan},
        "Hours checker": {TeamPermission.confirm_hours},
    }


def _access(**kw) -> TeamAccess:
    return TeamAccess(person_id=1, team_id=1, **kw)


def test_on_behalf_names_the_authority_used():
    builder = _access(hat_permissions=frozenset({"invite_people"}), hat_grants=frozenset({("invite_people", "Team builder")}))
    assert perm.on_behalf(_access(is_leader=True), TeamPermission.invite_people) == "leader"
    assert perm.on_behalf(_access(is_arranger=True), TeamPermission.invite_people) == "arranger"
    assert perm.on_behalf(builder, TeamPermission.invite_people) == "hat:Team builder"
    assert perm.on_behalf(_access(is_facilitator=True)) == "facilitator"
    assert perm.on_behalf(_access()) == "self"


def test_facilitators_help_but_do_not_override():
    f = _access(is_facilitator=True)
    assert perm.can_see_team(f) and perm.can_read_plan(f) and perm.can_suggest_plan_change(f)
    assert perm.can_appoint_arranger(f) and perm.can_read_audit(f)
    for refused in (perm.can_edit_plan, perm.can_invite, perm.can_end_membership, perm.can_manage_hats,
                    perm.can_see_private_details, perm.can_edit_team, perm.can_answer_suggestion):
        assert not refused(f), refused.__name__


def test_trial_members_see_the_team_but_not_the_private_details_or_full_plan():
    t = _access(member_status=TeamMemberStatus.trial)
    assert perm.can_see_team(t) and perm.can_read_shared_plan(t)
    assert not perm.can_read_plan(t) and not perm.can_see_private_details(t) and not perm.can_read_audit(t)


def test_invited_people_do_not_see_the_team_yet():
    assert not perm.can_see_team(_access(member_status=TeamMemberStatus.invited))


def test_only_supported_members_lead_teams():
    assert perm.can_create_team(actor_is_leader=True, actor_is_facilitator=False, leader_is_supported_member=True)
    assert perm.can_create_team(actor_is_leader=False, actor_is_facilitator=True, leader_is_supported_member=True)
    assert not perm.can_create_team(actor_is_leader=True, actor_is_facilitator=False, leader_is_supported_member=False)
    assert not perm.can_create_team(actor_is_leader=False, actor_is_facilitator=False, leader_is_supported_member=True)


def test_history_is_described_for_people():
    assert rules.describe_behalf("hat:Plan keeper") == "wearing the Plan keeper hat"
    assert rules.describe_behalf("leader") == "as leader"
