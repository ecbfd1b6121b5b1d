"""careteams: a backend for care platform co-operatives.

`create_app` is loaded on first use (PEP 562), so that importing a pure module
such as `careteams.rota.rules` does not start Flask and the whole app with it.
`from careteams import create_app`, `flask --app careteams` and
`gunicorn "careteams:create_app()"` all work as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from careteams.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from careteams.app import create_app  # lazy: see the module docstring

        return create_app
    raise AttributeError(f"module 'careteams' has no attribute {name!r}")
