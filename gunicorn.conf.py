"""Gunicorn settings read from the working directory (`gunicorn pycaret_studio.wsgi ...`).

Only hooks live here; bind, workers and timeouts stay on the command line (Procfile,
Dockerfile, docker-compose.yml).
"""

import sys


def worker_exit(server, worker):
    """A worker leaving cleanly (SIGTERM, SIGQUIT, max-requests, a reload) writes its buffered
    prediction log first; atexit would too, this is the explicit path. A process that never
    served a prediction has nothing to write and imports nothing here."""
    module = sys.modules.get("engine.services.prediction_log")
    if module is None:
        return
    try:
        written = module.prediction_log.shutdown()
    except Exception:
        server.log.exception("could not write the buffered prediction log")
        return
    if written:
        server.log.info("wrote %d buffered prediction log entries on exit", written)
