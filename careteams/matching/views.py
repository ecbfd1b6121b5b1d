"""JSON API for matching. Thin adapters: parse, call one service, commit once, dump."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint as ApiBlueprint

from careteams.auth.current import current_actor
from careteams.extensions import db
from careteams.matching.schemas import (
    AskSchema,
    CheckInAnswerSchema,
    CheckInSchema,
    CheckSchema,
    EqualityDataSchema,
    MatchActionSchema,
    MatchingSettingsSchema,
    MatchStartSchema,
    NotificationSchema,
    SkillChangeSchema,
    SkillInSchema,
    SkillSchema,
    VacancyChangeSchema,
    VacancyInSchema,
    WorkerProfileInSchema,
    WorkerProfileSchema,
)
from careteams.matching.services.check_ins import answer_check_in
from careteams.matching.services.facilitator import (
    facilitator_queue,
    fairness_report,
    matching_figures,
)
from careteams.matching.services.match_summaries import (
    list_my_matches,
    list_vacancy_matches,
    view_match,
)
from careteams.matching.services.matches import act_on_match, ask_to_join, invite_worker
from careteams.matching.services.notifications import list_notifications, mark_notification_read
from careteams.matching.services.profiles import (
    forget_equality_data,
    get_own_profile,
    record_check,
    save_equality_data,
    save_profile,
)
from careteams.matching.services.settings import (
    add_skill,
    list_skills,
    matching_settings,
    update_matching_settings,
    update_skill,
)
from careteams.matching.services.suggestions import suggest_candidates, suggest_vacancies
from careteams.matching.services.vacancies import (
    list_team_vacancies,
    post_vacancy,
    update_vacancy,
    view_vacancy,
)
from careteams.members.services import get_visible_cooperative

api_bp = ApiBlueprint("matching_api", __name__, url_prefix="/api/v1",
                      description="Worker profiles, vacancies, suggestions and matches by mutual consent")


def _coop(slug: str):
    return get_visible_cooperative(current_actor(), slug)


@api_bp.route("/cooperatives/<slug>/matching/settings")
class Settings(MethodView):
    @api_bp.response(200, MatchingSettingsSchema)
    def get(self, slug: str):
        """The co-op's matching settings."""
        return matching_settings(_coop(slug).id)

    @api_bp.arguments(MatchingSettingsSchema)
    @api_bp.response(200, MatchingSettingsSchema)
    def patch(self, changes: dict, slug: str):
        """Change matching settings, e.g. switch facilitator review off (admins)."""
        result = update_matching_settings(current_actor(), _coop(slug), changes)
        db.session.commit()
        return result


@api_bp.route("/cooperatives/<slug>/skills")
class Skills(MethodView):
    @api_bp.response(200, SkillSchema(many=True))
    def get(self, slug: str):
        """The co-op's list of skills."""
        return list_skills(current_actor(), _coop(slug))

    @api_bp.arguments(SkillInSchema)
    @api_bp.response(201, SkillSchema)
    def post(self, data: dict, slug: str):
        """Add a skill to the list (facilitators and admins)."""
        skill = add_skill(current_actor(), _coop(slug), data["name"])
        db.session.commit()
        return skill


@api_bp.route("/cooperatives/<slug>/skills/<int:skill_id>")
class SkillItem(MethodView):
    @api_bp.arguments(SkillChangeSchema)
    @api_bp.response(200, SkillSchema)
    def patch(self, changes: dict, slug: str, skill_id: int):
        """Rename a skill or retire it (facilitators and admins)."""
        skill = update_skill(current_actor(), _coop(slug), skill_id, changes)
        db.session.commit()
        return skill


@api_bp.route("/cooperatives/<slug>/worker-profile")
class OwnProfile(MethodView):
    @api_bp.response(200, WorkerProfileSchema)
    def get(self, slug: str):
        """Your own worker profile."""
        return get_own_profile(current_actor(), _coop(slug))

    @api_bp.arguments(WorkerProfileInSchema)
    @api_bp.response(200, WorkerProfileSchema)
    def put(self, data: dict, slug: str):
        """Create or replace your worker profile (worker members)."""
        profile = save_profile(current_actor(), _coop(slug), data)
        db.session.commit()
        return profile


@api_bp.route("/cooperatives/<slug>/worker-profile/equality")
class OwnEquality(MethodView):
    @api_bp.arguments(EqualityDataSchema)
    @api_bp.response(200, EqualityDataSchema)
    def put(self, data: dict, slug: str):
        """Give (voluntary) equality data; only ever reported in aggregate."""
        row = save_equality_data(current_actor(), _coop(slug), data)
        db.session.commit()
        return row

    @api_bp.response(204)
    def delete(self, slug: str):
        """Remove your equality data."""
        forget_equality_data(current_actor(), _coop(slug))
        db.session.commit()


@api_bp.route("/cooperatives/<slug>/workers/<int:person_id>/checks")
class WorkerChecks(MethodView):
    @api_bp.arguments(CheckInSchema)
    @api_bp.response(201, CheckSchema)
    def post(self, data: dict, slug: str, person_id: int):
        """Record a check or training item for a worker (facilitators)."""
        check = record_check(current_actor(), _coop(slug), person_id, data)
        db.session.commit()
        return check


@api_bp.route("/cooperatives/<slug>/suggested-vacancies")
class SuggestedVacancies(MethodView):
    @api_bp.response(200)
    def get(self, slug: str):
        """Open vacancies that fit you, ranked with reasons (summaries only)."""
        return suggest_vacancies(current_actor(), _coop(slug))


@api_bp.route("/cooperatives/<slug>/my-matches")
class MyMatches(MethodView):
    @api_bp.response(200)
    def get(self, slug: str):
        """Your matches as a worker."""
        return list_my_matches(current_actor(), _coop(slug))


@api_bp.route("/teams/<int:team_id>/vacancies")
class TeamVacancies(MethodView):
    @api_bp.response(200)
    def get(self, team_id: int):
        """A team's vacancies (the team side and facilitators)."""
        _, vacancies = list_team_vacancies(current_actor(), team_id)
        return [view_vacancy(current_actor(), v.id) for v in vacancies]

    @api_bp.arguments(VacancyInSchema)
    @api_bp.response(201)
    def post(self, data: dict, team_id: int):
        """Post a vacancy (the leader, an arranger or a Team builder)."""
        vacancy = post_vacancy(current_actor(), team_id, data)
        db.session.commit()
        return view_vacancy(current_actor(), vacancy.id)


@api_bp.route("/vacancies/<int:vacancy_id>")
class VacancyItem(MethodView):
    @api_bp.response(200)
    def get(self, vacancy_id: int):
        """A vacancy: in full for the team side, a summary for workers."""
        return view_vacancy(current_actor(), vacancy_id)

    @api_bp.arguments(VacancyChangeSchema(partial=True))
    @api_bp.response(200)
    def patch(self, changes: dict, vacancy_id: int):
        """Change a vacancy or its status (open, paused, filled, closed)."""
        update_vacancy(current_actor(), vacancy_id, changes)
        db.session.commit()
        return view_vacancy(current_actor(), vacancy_id)


@api_bp.route("/vacancies/<int:vacancy_id>/suggestions")
class Suggestions(MethodView):
    @api_bp.response(200)
    def get(self, vacancy_id: int):
        """Ranked candidate workers with the reasons (the team side)."""
        results = suggest_candidates(current_actor(), vacancy_id)
        db.session.commit()  # remembers who was shown, for the fairness report
        return results


@api_bp.route("/vacancies/<int:vacancy_id>/matches")
class VacancyMatches(MethodView):
    @api_bp.response(200)
    def get(self, vacancy_id: int):
        """The matches on a vacancy (the team side and facilitators)."""
        return list_vacancy_matches(current_actor(), vacancy_id)


@api_bp.route("/vacancies/<int:vacancy_id>/invitations")
class Invitations(MethodView):
    @api_bp.arguments(MatchStartSchema)
    @api_bp.response(201)
    def post(self, data: dict, vacancy_id: int):
        """Invite a worker to this vacancy (team side); the worker answers."""
        match = invite_worker(current_actor(), vacancy_id, data["person_id"], data["note"])
        db.session.commit()
        return view_match(current_actor(), match.id)


@api_bp.route("/vacancies/<int:vacancy_id>/requests")
class Requests(MethodView):
    @api_bp.arguments(AskSchema)
    @api_bp.response(201)
    def post(self, data: dict, vacancy_id: int):
        """Ask to join this vacancy (a worker); the team side answers."""
        match = ask_to_join(current_actor(), vacancy_id, data["note"])
        db.session.commit()
        return view_match(current_actor(), match.id)


@api_bp.route("/matches/<int:match_id>")
class MatchItem(MethodView):
    @api_bp.response(200)
    def get(self, match_id: int):
        """A match as you may see it."""
        return view_match(current_actor(), match_id)


@api_bp.route("/matches/<int:match_id>/actions")
class MatchActions(MethodView):
    @api_bp.arguments(MatchActionSchema)
    @api_bp.response(200)
    def post(self, data: dict, match_id: int):
        """Answer yes/no, approve or decline after review, hold, release, record the introduction,
        start the trial, record a shift, confirm or withdraw. Invalid transitions get 409."""
        act_on_match(current_actor(), match_id, data["action"], note=data["note"], on=data["on"])
        db.session.commit()
        return view_match(current_actor(), match_id)


@api_bp.route("/matches/<int:match_id>/check-ins/<int:after_shift>")
class MatchCheckIn(MethodView):
    @api_bp.arguments(CheckInAnswerSchema)
    @api_bp.response(200)
    def post(self, data: dict, match_id: int, after_shift: int):
        """Say whether it is working after that many shifts together (once per side:
        working, not_sure or not_working). Answering twice gets 409."""
        answer_check_in(current_actor(), match_id, after_shift, data["answer"])
        db.session.commit()
        return view_match(current_actor(), match_id)


@api_bp.route("/cooperatives/<slug>/matching/queue")
class Queue(MethodView):
    @api_bp.response(200)
    def get(self, slug: str):
        """The facilitators' queue."""
        return facilitator_queue(current_actor(), _coop(slug))


@api_bp.route("/cooperatives/<slug>/matching/fairness")
class Fairness(MethodView):
    @api_bp.response(200)
    def get(self, slug: str):
        """Aggregate fairness report, small cells suppressed (facilitators)."""
        return fairness_report(current_actor(), _coop(slug))


@api_bp.route("/cooperatives/<slug>/matching/figures")
class Figures(MethodView):
    @api_bp.response(200)
    def get(self, slug: str):
        """Matching success and median days from vacancy to join (facilitators)."""
        return matching_figures(current_actor(), _coop(slug))


@api_bp.route("/matching/notifications")
class Notifications(MethodView):
    @api_bp.response(200, NotificationSchema(many=True))
    def get(self):
        """Your matching notifications, newest first."""
        return list_notifications(current_actor())


@api_bp.route("/matching/notifications/<int:notification_id>/read")
class NotificationRead(MethodView):
    @api_bp.response(200, NotificationSchema)
    def post(self, notification_id: int):
        """Mark a notification read."""
        found = mark_notification_read(current_actor(), notification_id)
        db.session.commit()
        return found
