"""The schemathesis run of test_schemathesis.py as a team leader and a facilitator.

A file of its own so that, with --dist loadfile, the second test worker takes these
two actors while the first takes the other two (the whole run is about 2 minutes).
"""

import pytest

from tests.api.test_schemathesis import check_every_operation


@pytest.mark.parametrize("actor", ["leader", "facilitator"])
def test_every_operation_conforms_and_never_5xx(app, database_url, actor):
    check_every_operation(app, database_url, actor)
