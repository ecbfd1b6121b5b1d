"""What each person can do in each of their co-ops: the links on the home page.

Decided from the person's class and staff roles in that co-op (the pages behind
the links check permissions again, through each domain's predicates).
"""

from __future__ import annotations

from flask import url_for

from careteams.members.models import MemberClass, MembershipStatus, StaffRoleName
from careteams.rota import permissions as rota_perm


def actions_for(entry: dict, runs_a_team: bool, is_team_worker: bool) -> list[dict]:
    coop = entry["cooperative"]
    membership = entry["membership"]
    roles = set(entry["roles"])
    active = membership is not None and membership.status == MembershipStatus.active
    links: list[tuple[str, str]] = []
    if is_team_worker or (active and membership.member_class == MemberClass.worker):
        links += [
            ("Shifts offered to me", url_for("rota.my_offers_page")),
            ("My shifts", url_for("rota.my_shifts_page")),
            ("My calendar feed", url_for("rota.my_calendar")),
            ("My hours", url_for("hours.my_hours_page")),
            ("My worker profile", url_for("matching.worker_profile", slug=coop.slug)),
            ("Teams looking for help", url_for("matching.suggested_vacancies", slug=coop.slug)),
        ]
    if runs_a_team:
        links.append(("Hours to confirm", url_for("hours.to_confirm_page")))
    if StaffRoleName.facilitator in roles:
        links += [
            ("Match review queue", url_for("matching.queue", slug=coop.slug)),
            ("Fairness report", url_for("matching.report", slug=coop.slug)),
            ("Disputed hours", url_for("hours.disputes_page", cooperative_id=coop.id)),
            ("Pay and invoice runs", url_for("hours.runs_page", cooperative_id=coop.id)),
            ("Co-op figures", url_for("hours.figures_page", cooperative_id=coop.id)),
        ]
    if roles & {StaffRoleName.facilitator, StaffRoleName.admin}:
        # A facilitator's proposal takes effect only with another facilitator's or an admin's yes.
        links.append(("Arranger proposals", url_for("teams.arranger_proposals", slug=coop.slug)))
    if StaffRoleName.secretary in roles:
        links += [
            ("Member register", url_for("governance.register", slug=coop.slug)),
            ("New resolution", url_for("governance.new_resolution", slug=coop.slug)),
        ]
    if active or StaffRoleName.secretary in roles:
        links.append(("Votes", url_for("governance.resolutions", slug=coop.slug)))
    if membership is not None:
        links.append(("My membership", url_for("governance.own_membership", slug=coop.slug)))
    return [{"label": label, "url": url} for label, url in links]


def rota_links(teams: list) -> list[dict]:
    """A link to each team's rota the person may see, decided by the rota's own rule
    (leader, circle, arranger, the co-op's facilitators, active team members)."""
    return [{"label": "My team's rota" if access.is_leader else f"{team.display_name}'s rota",
             "url": url_for("rota.rota_page", team_id=team.id)}
            for team, access in teams if rota_perm.can_view_rota(access)]
