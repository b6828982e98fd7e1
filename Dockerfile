# Kabar in a container: `kabar run`, the SQLite database on a volume, /healthz for the health
# check. Build: docker build -t kabar .   Run:
#   docker run -d --name kabar -v kabar-data:/data -e TELEGRAM_BOT_TOKEN=... kabar
# (a config file: -v ./config.toml:/etc/kabar/config.toml:ro -e KABAR_CONFIG=/etc/kabar/config.toml,
# with store.path = "/data/kabar.db" and [http] port = 8080, host = "0.0.0.0").
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    MPLCONFIGDIR=/tmp/matplotlib

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY store ./store
RUN pip install . && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin kabar \
    && install -d -o kabar -g kabar -m 0700 /data

# The default config when none is mounted: the database on the volume, /healthz on 8080.
COPY deploy/docker-config.toml /etc/kabar/config.toml
ENV KABAR_CONFIG=/etc/kabar/config.toml

USER kabar
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"]

STOPSIGNAL SIGTERM
ENTRYPOINT ["kabar"]
CMD ["run"]
