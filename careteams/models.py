"""Imports every domain's models so metadata is complete (Alembic, relationships)."""

from careteams.auth.models import *  # noqa: F403
from careteams.geo import PostcodePlace  # noqa: F401  (the geocoder's cache)
from careteams.governance.models import *  # noqa: F403
from careteams.hours.models import *  # noqa: F403
from careteams.mail.models import *  # noqa: F403
from careteams.matching.models import *  # noqa: F403
from careteams.members.models import *  # noqa: F403
from careteams.rota.models import *  # noqa: F403
from careteams.sms.models import *  # noqa: F403
from careteams.teams.models import *  # noqa: F403
