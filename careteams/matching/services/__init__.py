"""Use-cases for matching by mutual consent. Services flush; the caller commits once.

One module per use case:
  settings         the co-op's matching settings and skill list
  profiles         worker profiles, checks, equality data; `worker_eligibility`
                   and `weekly_hours_opt_out` for other domains (the rota checks a
                   worker's skills and checks before offering a shift)
  vacancies        posting, changing and reading vacancies
  suggestions      ranked, explained suggestions both ways
  matches          the consent state machine (invite, ask, answer, review: approve,
                   decline or hold; introduce, trial, confirm, withdraw)
  check_ins        check-ins after the 3rd and 8th shift
  match_summaries  what each side sees of a match
  facilitator      the facilitators' queue, fairness report and figures
  notifications    notifications about matches (web, email or text)
  common           shared constants and helpers
"""
