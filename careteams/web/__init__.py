"""The web shell: the home page (`pages.py`, blueprint "web") and the health
check (`views.py`, blueprint "health"); `nav.py` builds the navigation for every
role, `home.py` gathers each person's to-do list, `grammar.py` says words right."""
