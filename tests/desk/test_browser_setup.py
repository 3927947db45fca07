"""Missing browser binaries skip the browser tests on a developer's machine and fail them in CI; the
screenshots go to docs/ only when asked."""

import pytest

from tests.desk import test_browser


@pytest.mark.parametrize(("ci", "outcome"), [("true", pytest.fail.Exception), (None, pytest.skip.Exception)])
def test_missing_chromium_fails_in_ci_and_is_skipped_elsewhere(monkeypatch, ci, outcome):
    monkeypatch.setattr(test_browser, "executable", lambda *names: None)
    if ci:
        monkeypatch.setenv("CI", ci)
    else:
        monkeypatch.delenv("CI", raising=False)

    with pytest.raises(outcome, match="chromium-driver"):
        test_browser.browser_binaries()


def test_the_binaries_are_found_where_debian_puts_them(monkeypatch):
    monkeypatch.setattr(test_browser.shutil, "which", lambda name: None)
    exists = {"/usr/bin/chromium", "/usr/bin/chromedriver"}
    monkeypatch.setattr(test_browser.Path, "exists", lambda self: str(self) in exists)

    assert test_browser.executable("chromium", "chromium-browser") == "/usr/bin/chromium"
    assert test_browser.executable("chromedriver") == "/usr/bin/chromedriver"
    assert test_browser.executable("firefox") is None


@pytest.mark.parametrize(("value", "into_docs"), [("1", True), (None, False), ("0", False)])
def test_screenshots_go_to_docs_only_when_asked(monkeypatch, tmp_path, value, into_docs):
    if value is None:
        monkeypatch.delenv("HIS_REFRESH_SCREENSHOTS", raising=False)
    else:
        monkeypatch.setenv("HIS_REFRESH_SCREENSHOTS", value)

    assert test_browser.screenshot_folder(tmp_path) == (test_browser.DOCS if into_docs else tmp_path)
