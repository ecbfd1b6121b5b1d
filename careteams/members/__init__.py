"""Co-operatives, people, memberships and staff roles."""
