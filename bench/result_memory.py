"""Peak memory of a server process while it serves a 20 MB medical result, per surface.

Starts gunicorn (one sync worker) on a throw-away SQLite database, imports one 20 MB result,
downloads it once over REST or SOAP, and reads the worker's peak resident size (VmHWM) before and
after. Run: .venv/bin/python bench/result_memory.py
"""

import base64
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
SIZE = 20 * 1024 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(field)


def manage(env, *args) -> str:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True,
                          text=True).stdout  # fmt: skip


def measure(surface: str, env: dict, secret: str) -> dict:
    port = free_port()
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "his.wsgi:application", "--workers", "1", "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {secret}"}
    try:
        for _ in range(100):
            try:
                requests.get(f"{base}/api/getcenters", headers=headers, timeout=5)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        worker = int(subprocess.check_output(["pgrep", "-P", str(server.pid)]).split()[0])
        before = kib(worker, "VmHWM")
        if surface == "REST":
            answer = requests.get(f"{base}/api/gettestresultcontent", {"download_lid": "BIG"}, headers=headers,
                                  timeout=120)  # fmt: skip
            content = base64.b64decode(answer.json()["return"]["DOWNLOAD_CONTENT"])
        else:
            envelope = (
                '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
                'xmlns:t="http://tuotempo.his/ws"><s:Body><t:getTestResultContent><t:DOWNLOAD_LID>BIG'
                "</t:DOWNLOAD_LID></t:getTestResultContent></s:Body></s:Envelope>"
            )
            answer = requests.post(f"{base}/soap/", envelope, headers=headers | {"Content-Type": "text/xml"},
                                   timeout=120)  # fmt: skip
            text = answer.text
            start = text.index("<tns:DOWNLOAD_CONTENT>") + len("<tns:DOWNLOAD_CONTENT>")
            content = base64.b64decode(text[start : text.index("</tns:DOWNLOAD_CONTENT>")])
        assert len(content) == SIZE, len(content)
        after = kib(worker, "VmHWM")
        return {
            "surface": surface,
            "peak_before_mib": round(before / 1024, 1),
            "peak_after_mib": round(after / 1024, 1),
            "growth_mib": round((after - before) / 1024, 1),
            "file_mib": SIZE / 1024 / 1024,
        }
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp}/db.sqlite3", "HIS_MEDIA_ROOT": f"{tmp}/media",
               "HIS_SECRET_KEY": secrets.token_urlsafe(50), "HIS_ALLOWED_HOSTS": "127.0.0.1"}  # fmt: skip
        manage(env, "migrate", "--noinput")
        secret = json.loads(manage(env, "create_integration_client", "bench").strip().splitlines()[-1])["secret"]
        manage(env, "shell", "-c", "from demo.factories import PatientFactory; PatientFactory(lid='P1')")
        pdf = Path(tmp, "big.pdf")
        pdf.write_bytes(b"%PDF-1.4\n" + os.urandom(SIZE - 16) + b"\n%%EOF\n")
        Path(tmp, "manifest.csv").write_text(
            "DOWNLOAD_LID,USER_LID,DOWNLOAD_CODE,DOWNLOAD_FILENAME,DOWNLOAD_TYPE,FILE_PATH\nBIG,P1,1,big.pdf,pdf,big.pdf\n"
        )
        manage(env, "import_results", f"{tmp}/manifest.csv")
        print(json.dumps([measure(surface, env, secret) for surface in ("REST", "SOAP")], indent=2))


if __name__ == "__main__":
    main()
