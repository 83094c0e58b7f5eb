# The sentiment worker (the GPU queue): CUDA torch. Falls back to CPU when no GPU is reserved.
FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DEBIAN_FRONTEND=noninteractive
RUN apt-get update && apt-get install -y --no-install-recommends python3.11 python3.11-venv curl \
    && rm -rf /var/lib/apt/lists/* && python3.11 -m venv /venv
ENV PATH=/venv/bin:$PATH
WORKDIR /app
COPY requirements/ requirements/
RUN pip install --no-cache-dir -r requirements/ml.txt
COPY . .
RUN useradd --create-home --uid 1000 tradebot && chown -R tradebot /app
USER tradebot
CMD ["celery", "-A", "tradebot", "worker", "-P", "solo", "-Q", "sentiment", "-n", "sentiment@%h"]
