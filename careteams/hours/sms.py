"""`DONE 482` and `DONE 482 10:05-13:10`: a worker submits a visit's hours by text.

Times are wall-clock in the team's zone; a finish before the start is the next day.
Replies are definitive (submitted, or not and why) and fit one GSM-7 segment.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from careteams.hours.services import texts
from careteams.sms.commands import SmsContext, sms_command
from careteams.sms.rules import Command

REPLIES = {
    "submitted": "Thanks. Hours for {code} sent to the team to confirm: {times}. Reply HELP for help.",
    "unknown_code": "Sorry, {code} doesn't match a visit of yours. Nothing was logged. Please use the website.",
    "not_finished": "Visit {code} hasn't started yet. Nothing was logged. Text DONE {code} when you finish.",
    "already_done": "Hours for {code} were already sent. Nothing changed. Please use the website to correct them.",
    "bad_times": "Sorry, those times don't work for {code}. Nothing was sent. Try e.g. DONE {code} 10:05-13:10.",
}


@sms_command("done")
def done(ctx: SmsContext, command: Command) -> str:
    code = (command.code or "")[:8]
    result = texts.done_by_code(ctx.person, code, command.times, ctx.now)
    times = ""
    if result.entry is not None:
        zone = ZoneInfo(result.entry.team.zone)
        times = (f"{result.entry.started_at.astimezone(zone):%H:%M}-"
                 f"{result.entry.ended_at.astimezone(zone):%H:%M}")
    return REPLIES[result.outcome].format(code=code, times=times)
