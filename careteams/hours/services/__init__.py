"""Use cases for hours, one module per use case. Services flush; the caller (view,
page, job, SMS command) commits once.

Every change to an entry goes through `rules.next_status`, after a permission
predicate from hours.permissions; a confirmed entry never changes again.

- `timesheets`: entries by hand: log, correct, submit, confirm, adjust, dispute,
  answer and reply to a dispute, settle; the lists people work from (mine, to
  confirm, disputes) and the entry page
- `history`: an entry's steps (timesheet_entry_event): every service above records
  one when it changes an entry; the entry page's timeline in plain words
- `clock`: pending entries for ended shifts, auto-confirmation, reminders
- `texts`: `DONE 482` by text
- `rates`: pay settings, co-op pay rates, team terms, funders, worker rates, and
  what an entry is paid and charged at
- `runs`: pay and invoice runs, their report and CSV exports
- `fair_pay`: effective hourly pay against the legal minimum
- `figures`: the co-op's monthly figures
- `common`: helpers the others share
"""
