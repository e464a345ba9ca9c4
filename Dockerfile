# PyCaret Studio: one image for web, worker and beat (see docker-compose.yml and Procfile).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    LITELLM_LOCAL_MODEL_COST_MAP=True \
    STUDIO_VAR_DIR=/app/var \
    MEDIA_ROOT=/app/var/media \
    STATIC_ROOT=/app/staticfiles \
    DEBUG=false

# libgomp1: LightGBM's OpenMP runtime.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 1000 studio
WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY --chown=studio:studio . .
# Collected as production serves them: hashed and compressed (ALLOWED_HOSTS makes it production).
RUN SECRET_KEY=build-only ALLOWED_HOSTS=build.invalid python manage.py collectstatic --noinput -v 0 \
    && mkdir -p /app/var/media && chown -R studio:studio /app/var /app/staticfiles

USER studio
EXPOSE 8000
CMD ["gunicorn", "pycaret_studio.wsgi", "--bind", "0.0.0.0:8000", "--workers", "2", "--timeout", "120", "--access-logfile", "-"]
