# Web (daphne), Celery workers (CPU queues), beat and Flower share this image.
# Stage 1 builds the dashboard (frontend/); the web process serves frontend/dist at "/"
# on the API's origin (WhiteNoise + tradebot.dashboard, strict CSP). No nginx needed.
FROM node:20-bookworm-slim AS dashboard
WORKDIR /frontend
ENV PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements/ requirements/
# CPU-only torch from the PyTorch CPU index: no CUDA wheels in the CPU image.
RUN pip install --no-cache-dir --extra-index-url https://download.pytorch.org/whl/cpu \
      -r requirements/ml.txt
COPY . .
COPY --from=dashboard /frontend/dist frontend/dist
RUN DJANGO_SECRET_KEY=build DATABASE_URL=postgres://x@localhost/x REDIS_URL=redis://localhost \
      python manage.py collectstatic --noinput
RUN useradd --create-home --uid 1000 tradebot && chown -R tradebot /app
USER tradebot
EXPOSE 8000
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "tradebot.asgi:application"]
