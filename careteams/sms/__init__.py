"""Text messages: the gateway, the outbox and its sender, the Twilio webhooks and
the text commands (see careteams/sms/README.md).

Twilio's webhooks are in `views.py` (blueprint "sms"); the notices page and the
development simulator in `pages.py` (blueprint "sms_pages").
"""
