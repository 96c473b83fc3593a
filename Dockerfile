# The production image: the app and the worker run from it (see docker-compose.yml).
FROM node:20-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
# Pango and HarfBuzz's subsetter for WeasyPrint (the impact report as PDF), and a font.
RUN apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends \
       libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.lock ./
RUN pip install --require-virtualenv=false -r requirements.lock
COPY pyproject.toml README.md alembic.ini ./
COPY peerbridge ./peerbridge
COPY backend ./backend
COPY matching ./matching
COPY vocabulary ./vocabulary
COPY members_csv ./members_csv
COPY schema ./schema
COPY web ./web
RUN pip install --no-deps .
COPY --from=assets /build/node_modules/nhsuk-frontend ./node_modules/nhsuk-frontend
RUN useradd --system --uid 10001 peerbridge && mkdir -p /app/var && chown peerbridge /app/var
USER peerbridge
EXPOSE 8000
CMD ["peerbridge", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "4"]
