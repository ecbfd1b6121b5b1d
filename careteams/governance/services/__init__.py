"""Use cases for resolutions, secret ballots, proxies, the tally and the register,
one module per use case:

- `resolutions`: list, draft, change, open (or schedule), start voting
- `ballots`: the voter's status, casting and changing ballots, receipts, proxies
- `results`: close and tally, the published result
- `register`: the member register, its CSV export, a member's own membership
- `common`: helpers the others share

Services flush; the caller (view, job) commits once. Two invariants are held by
the database rather than by checks that could race:

- one ballot per member: casting first flips the member's `electorate_entry`
  flag with a conditional UPDATE (`... AND has_voted = false`); only the
  transaction that flipped it may insert a ballot (see `ballots`);
- nothing counts after the close: casting takes a shared lock on the resolution
  row and re-reads its status; closing is a conditional UPDATE of that row, which
  waits for every ballot in flight, and then tallies in a fresh snapshot (see
  `results`).
"""
