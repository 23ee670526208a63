"""gunicorn hooks for the App's metrics across processes (`-c python:bot.app.gunicorn_conf`).

With PROMETHEUS_MULTIPROC_DIR set, each process writes its figures to that directory; when gunicorn
replaces a process, this hook lets its live gauges go.
"""

from prometheus_client import multiprocess


def child_exit(server, worker):
    multiprocess.mark_process_dead(worker.pid)
