"""Emails: a durable outbox, sent by the clock's sender job, never inside a request.

`careteams.delivery.queue_email` (and `notify.queue(notify.Email(...))`) writes an
`outbound_email` row in the current transaction; `mail.send_outbox` (jobs.py)
sends due rows after commit with an SMTP timeout and the SMS outbox's retry
rules. `flask --app careteams mail outbox` shows what is waiting or went wrong.
"""
