# Web (daphne), Celery workers (CPU queues), beat and Flower share this image.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements/ requirements/
# CPU-only torch from the PyTorch CPU index: no CUDA wheels in the CPU image.
RUN pip install --no-cache-dir --extra-index-url https://download.pytorch.org/whl/cpu \
      -r requirements/ml.txt
COPY . .
RUN DJANGO_SECRET_KEY=build DATABASE_URL=postgres://x@localhost/x REDIS_URL=redis://localhost \
      python manage.py collectstatic --noinput
RUN useradd --create-home --uid 1000 tradebot && chown -R tradebot /app
USER tradebot
EXPOSE 8000
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "tradebot.asgi:application"]
