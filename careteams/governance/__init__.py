"""Member governance: the register, resolutions, secret ballots, proxies and the tally."""
