# telli-mcp as a streamable-HTTP MCP server (endpoint /mcp on port 8000).
#
#   docker build -t telli-mcp .
#   docker run --rm -p 127.0.0.1:8000:8000 -e TELLI_MCP_STATE_SECRET=... -e TELLI_MCP_ALLOWED_HOSTS=localhost:* telli-mcp
#
# Clients send their own telli key per request (`Authorization: Bearer <telli key>`); pass -e TELLI_API_KEY only
# for a single-user deployment. Several replicas need the same TELLI_MCP_STATE_SECRET and TELLI_MCP_DATABASE_URL
# (see deploy/). Put TLS in front.
#
# DNS-rebinding protection is always on: requests must be addressed to localhost or to a host listed in
# TELLI_MCP_ALLOWED_HOSTS (e.g. mcp.example.com:*); browser origins go in TELLI_MCP_ALLOWED_ORIGINS. Publish
# the port on loopback or behind a reverse proxy; never expose it directly on a network you do not control.

FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY telli_mcp ./telli_mcp
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TELLI_MCP_DATA_DIR=/data
RUN useradd --create-home --uid 10001 telli \
    && mkdir /data \
    && chown telli /data
COPY --from=build /wheels /wheels
# With the `postgres` extra: replicas share their state through TELLI_MCP_DATABASE_URL (deploy/docker-compose.yml).
RUN pip install --no-cache-dir "$(ls /wheels/telli_mcp-*.whl)[postgres]" \
    && rm -rf /wheels
USER telli
VOLUME ["/data"]
EXPOSE 8000
CMD ["telli-mcp", "--transport", "http", "--host", "0.0.0.0", "--port", "8000"]
