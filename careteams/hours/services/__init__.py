"""Use cases for hours, one module per use case. Services flush; the caller (view,
page, job, SMS command) commits once.

Every change to an entry goes through `rules.next_status`, after a permission
predicate from hours.permissions; a confirmed entry never changes again.

- `timesheets`: entries by hand: log, correct, submit, confirm, adjust, dispute,
  settle; the lists people work from (mine, to confirm, disputes)
- `clock`: pending entries for ended shifts, auto-confirmation, reminders
- `texts`: `DONE 482` by text
- `rates`: pay settings, co-op pay rates, team terms, funders, worker rates, and
  what an entry is paid and charged at
- `runs`: pay and invoice runs, their report and CSV exports
- `fair_pay`: effective hourly pay against the legal minimum
- `figures`: the co-op's monthly figures
- `common`: helpers the others share
"""
