"""The admin's and the desk's own strings in Spanish and Italian: every one translated, the compiled
catalogues matching the .po files, and the .po files holding every string the code marks (what
`make messages` would extract). The last check needs gettext's xgettext (`apt-get install gettext`,
done by .ci/run): skipped without it on a developer's machine, and FAILS when `CI` is set."""

import gettext
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.utils import translation

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("es", "it")
# The project's own folders with marked strings (what `make messages` reads: everything but these).
IGNORED = {".venv", "tests", "bench", "staticfiles", "media", "docs", "locale", ".git"}


ENTRY = re.compile(r'((?:^#.*\n)*)^msgid ((?:".*"\n)+)^msgstr ((?:".*"(?:\n|\Z))+)', re.M)


def po_entries(path: Path) -> dict[str, tuple[str, bool]]:
    """msgid -> (msgstr, fuzzy) of a .po file, the header left out."""
    entries = {}
    for comments, msgid, msgstr in ENTRY.findall(path.read_text(encoding="utf-8")):
        msgid, msgstr = ("".join(re.findall(r'"(.*)"', part)) for part in (msgid, msgstr))
        if msgid:
            entries[msgid] = (msgstr, "#, fuzzy" in comments)
    return entries


def unescape(text: str) -> str:
    return text.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_is_translated(language):
    entries = po_entries(ROOT / "locale" / language / "LC_MESSAGES" / "django.po")

    assert len(entries) > 300
    missing = [msgid for msgid, (msgstr, fuzzy) in entries.items() if not msgstr or fuzzy]
    assert missing == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalogue_is_the_po_file(language):
    folder = ROOT / "locale" / language / "LC_MESSAGES"
    with (folder / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)

    for msgid, (msgstr, _fuzzy) in po_entries(folder / "django.po").items():
        assert compiled.gettext(unescape(msgid)) == unescape(msgstr), msgid


def test_the_po_files_hold_every_string_the_code_marks(tmp_path):
    if shutil.which("xgettext") is None:
        message = "extracting the strings needs gettext's xgettext (apt-get install gettext)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}: missing in CI")
        pytest.skip(message)
    copy = tmp_path / "project"
    shutil.copytree(ROOT, copy, ignore=lambda folder, names: [n for n in names if n in IGNORED or n.endswith(".pyc")])
    (copy / "locale").mkdir()
    ignores = [f"--ignore={name}" for name in sorted(IGNORED)]
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "es", *ignores],
        cwd=copy,
        check=True,
        capture_output=True,
        env={**os.environ, "HIS_SECRET_KEY": "x" * 50},
    )

    marked = set(po_entries(copy / "locale" / "es" / "LC_MESSAGES" / "django.po"))
    for language in LANGUAGES:
        held = set(po_entries(ROOT / "locale" / language / "LC_MESSAGES" / "django.po"))
        assert sorted(marked - held) == [], f"run `make messages` and translate the new strings ({language})"
        assert sorted(held - marked) == [], f"run `make messages`: strings no longer in the code ({language})"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("es", ["Agenda del hospital", "Citas", "Médicos"]),
        ("it", ["Agenda dell'ospedale", "Appuntamenti", "Medici"]),
        ("en", ["Hospital scheduling", "Appointments", "Doctors"]),
    ],
)
def test_the_admin_speaks_the_language_chosen(admin_client: Client, language, words):
    admin_client.post("/i18n/setlang/", {"language": language, "next": "/admin/"})

    page = admin_client.get("/admin/").content.decode()

    assert f'lang="{language}"' in page
    for word in words:
        assert word in page.replace("&#x27;", "'"), word
    translation.activate("en")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "index_words", "dashboard_words"),
    [
        (
            "es",
            ["Integración", "Clientes de integración", "Intercambio de ficheros", "Filas importadas",
             "Sincro (integración por base de datos)", "Filas de TT_RESERVATIONS_TMP", "Panel de integración"],
            ["Panel de integración", "Aún no hay ningún cliente de integración.",
             "Autenticaciones rechazadas por dirección (7 días)", "registro de auditoría"],
        ),
        (
            "it",
            ["Integrazione", "Client di integrazione", "Scambio di file", "Righe importate",
             "Sincro (integrazione tramite database)", "Righe di TT_RESERVATIONS_TMP", "Cruscotto dell'integrazione"],
            ["Cruscotto dell'integrazione", "Ancora nessun client di integrazione.",
             "Autenticazioni rifiutate per indirizzo (7 giorni)", "registro di audit"],
        ),
    ],
)  # fmt: skip
def test_the_integration_admin_speaks_the_language_chosen(admin_client: Client, language, index_words, dashboard_words):
    """The integration clients, the exchange log, Sincro's tables and the operations dashboard too; the
    guide's table names stay as the guide writes them."""
    admin_client.post("/i18n/setlang/", {"language": language, "next": "/admin/"})

    index = admin_client.get("/admin/").content.decode().replace("&#x27;", "'")
    dashboard = admin_client.get("/admin/integration-dashboard/").content.decode().replace("&#x27;", "'")

    for word in index_words:
        assert word in index, word
    for word in dashboard_words:
        assert word in dashboard, word
    translation.activate("en")
