"""The web shell: the home page (`pages.py`, blueprint "web") and the health
check (`views.py`, blueprint "health"); `home.py` lists each person's actions."""
