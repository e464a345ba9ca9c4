"""GET /api/v1/health: is the database reachable, and the broker?"""

from django.db import connection
from ninja import Router

router = Router(tags=["health"])


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        return False


def broker_ok() -> bool:
    from pycaret_studio.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
        return True
    except Exception:
        return False


@router.get("/health", auth=None, response={200: dict, 503: dict})
def health(request):
    database = "ok" if database_ok() else "unreachable"
    broker = "ok" if broker_ok() else "unreachable"
    failing = [
        name for name, state in (("database", database), ("broker", broker)) if state != "ok"
    ]
    body = {
        "status": "ok" if not failing else "unavailable",
        "database": database,
        "broker": broker,
    }
    if failing:
        body["detail"] = f"Unreachable: {', '.join(failing)}."
        body["code"] = "unavailable"
        return 503, body
    return 200, body
