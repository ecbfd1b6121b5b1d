"""Accounts: login, invitations, password reset and personal API tokens.

Pages in `pages.py` (blueprint "auth"), the token API in `views.py` ("auth_api"),
use cases in `services.py`; `current.py` finds the person making a request for
every domain's pages and views.
"""
