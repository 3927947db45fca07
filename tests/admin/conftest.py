# The desk's Chromium and small clinic serve the admin's browser tests too.
from tests.desk.conftest import clinic  # noqa: F401
from tests.desk.test_browser import browser  # noqa: F401
