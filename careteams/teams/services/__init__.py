"""Use cases for teams, one module per use case. Services flush; the caller commits once.
Each loads, asks a predicate from teams.permissions through ensure(), applies
rules, mutates, writes the audit log and flushes.

  access        who someone is to a team (team_access), the teams they can see;
                every domain that touches a team asks it
  audit         the team's audit log
  common        helpers shared by the use cases (field errors, finding or
                inviting a person, short notes that something waits)
  teams         starting and editing a team; its private details
  places        the team's coordinates as each person may see them (exact or an area)
  team_members  invitations, trial, active, leaving (both consents)
  circle        hat types and hats
  arrangers     arrangers: proposed, agreed by a second person, declined, ended
  plans         support plan versions and suggested changes
  overview      the team page, answers waiting for a person, home links
"""
