"""gunicorn's settings for `make serve` (gunicorn -c python:ops.gunicorn_config ...).

Metrics: each worker counts into files of PROMETHEUS_MULTIPROC_DIR (prometheus-client's multiprocess
mode), so that GET /metrics, whichever worker answers it, reports the sum over every worker. The
folder is made when the variable is not set, emptied when the server starts (a restart starts the
counters again, as Prometheus expects), and must be one per server instance. When a worker exits,
`child_exit` tells prometheus-client (its totals stay counted).

Logs: with HIS_LOG_FORMAT=json (the default) gunicorn's own lines are JSON too, like the
application's; the request lines come from the application (ops/middleware.py), so gunicorn's access
log stays off (it would also write query strings).

Imported by gunicorn's master before any worker loads Django: nothing here imports Django.
"""

import os
import tempfile
from pathlib import Path

METRICS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

if not os.environ.get(METRICS_DIR_VARIABLE):
    os.environ[METRICS_DIR_VARIABLE] = tempfile.mkdtemp(prefix="his-metrics-")
metrics_dir = Path(os.environ[METRICS_DIR_VARIABLE])
metrics_dir.mkdir(parents=True, exist_ok=True)


def on_starting(server):
    for leftover in metrics_dir.glob("*.db"):
        leftover.unlink()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


if os.environ.get("HIS_LOG_FORMAT", "json").strip().lower() == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"scrub": {"()": "ops.logs.ScrubFilter"}},
        "formatters": {"json": {"()": "ops.logs.JsonFormatter"}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["scrub"],
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": "INFO", "handlers": ["console"]},
        "loggers": {"gunicorn.error": {"level": "INFO", "handlers": ["console"], "propagate": False}},
    }
