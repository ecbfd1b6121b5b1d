"""Teams led by the supported member: members, hats (the circle), support plan."""
