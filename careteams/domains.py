"""The list of domain packages, and the one way to load what each offers.

The app factory, the clock, the CLI, the SMS command registry and the demo all
read this module; nothing imports `careteams.app` except the package's
`__init__` (which offers `create_app`) and entry points. Loading by name here
keeps the package free of import circles: a domain never has to import the app
to plug itself in.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

# In dependency order: members before the domains built on it, teams before
# matching before rota before hours. The demo seeds in this order too.
DOMAINS: tuple[str, ...] = (
    "members", "auth", "web", "teams", "matching", "mail", "sms", "rota", "hours", "governance",
)

# The modules a domain may offer, each loaded by whoever needs it:
#   pages, views   blueprints (`bp` for HTML pages and webhooks, `api_bp` for the JSON API)
#   signals        listeners on other domains' events, connected at app start
#   jobs           clock entry points (`@scheduler.job`)
#   sms            text-command handlers (`@sms_command`)
#   demo           demo data steps (`DEMO_STEPS`)


def domain_modules(name: str) -> list[ModuleType]:
    """Import `careteams.<domain>.<name>` for every domain that has one, in DOMAINS order."""
    modules = []
    for domain in DOMAINS:
        dotted = f"careteams.{domain}.{name}"
        if importlib.util.find_spec(dotted) is not None:
            modules.append(importlib.import_module(dotted))
    return modules


def domain_of(module_name: str) -> str | None:
    """The domain a module belongs to (`careteams.rota.demo` -> "rota"), or None."""
    parts = module_name.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "careteams" and parts[1] in DOMAINS else None
