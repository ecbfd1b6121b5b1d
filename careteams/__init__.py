"""careteams: a backend for care platform co-operatives."""

from careteams.app import create_app

__all__ = ["create_app"]
