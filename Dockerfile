# ticketdesk in production: the wheel tests/test_packaging.py builds and checks, installed
# with the pins of requirements.txt into a slim image that runs as a user of its own.
# One image for every process: `serve --no-worker` (the API), `worker`, `migrate`.
# docker-compose.yml beside this file shows them together; the README's "Running in
# production" explains them.

# The wheel, built as the test command builds it: hatch_build.py runs `npm ci` and
# `npm run build` in web/ and puts the web app into the wheel, so only this stage has Node.
# Debian bookworm's python3 is 3.11.
FROM node:20-bookworm-slim AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY requirements.txt requirements-dev.txt ./
# build and uv at the versions requirements-dev.txt pins (its -r line left out).
RUN grep -v '^-r' requirements-dev.txt > /tmp/dev-pins.txt \
    && python3 -m venv /opt/build \
    && /opt/build/bin/pip install --no-cache-dir -c requirements.txt -c /tmp/dev-pins.txt build uv
COPY . .
RUN /opt/build/bin/python -m build --wheel --installer uv --outdir /dist .

FROM python:3.11-slim
COPY requirements.txt /tmp/requirements.txt
COPY --from=build /dist/ /tmp/dist/
# The wheel and exactly the pinned packages, nothing resolved afresh; pip check proves
# that the pins hold every dependency.
RUN pip install --no-cache-dir --no-deps -r /tmp/requirements.txt /tmp/dist/ticketdesk-*.whl \
    && pip check \
    && rm -rf /tmp/requirements.txt /tmp/dist
# The user and its group both 10001, the ids USER names.
RUN groupadd --gid 10001 ticketdesk \
    && useradd --no-log-init --uid 10001 --gid 10001 --create-home --home-dir /var/lib/ticketdesk \
        --shell /usr/sbin/nologin ticketdesk
USER 10001:10001
WORKDIR /var/lib/ticketdesk
# Listen on every interface of the container. The data directory holds the attachments
# when no S3 bucket is set (mount a volume shared by every container there).
ENV TICKETDESK_HOST=0.0.0.0 \
    TICKETDESK_PORT=8000 \
    TICKETDESK_DATA_DIR=/var/lib/ticketdesk
EXPOSE 8000
# The API's liveness; a container running `worker` or `migrate` serves no HTTP, so it
# turns this off (docker-compose.yml does).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --start-interval=2s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ['TICKETDESK_PORT']}/healthz\", timeout=4)"]
ENTRYPOINT ["ticketdesk"]
CMD ["serve"]
