# syntax=docker/dockerfile:1
# Caly API image: build with dev dependencies, run with production ones only, as a non-root user.
#   docker build -t caly-api .      (docker-compose.yml builds it as the `api` service)

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    METRICS_PORT=9464 \
    DATA_DIR=/app/data
WORKDIR /app
# The service writes only under /app (audit journal, scan reports): owned by the runtime user.
RUN chown node:node /app
COPY --from=build --chown=node:node /app/package.json /app/package-lock.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
# `npm run tenant:create` and the other CLIs run through this script (it skips building without src/).
COPY --chown=node:node scripts/build-if-needed.js ./scripts/
# DATA_DIR: audit journal, recordings, scan reports and, outside production, the generated
# development key. docker-compose.yml mounts a named volume here so they survive a rebuild.
RUN mkdir -p /app/data && chown node:node /app/data
VOLUME /app/data
USER node
# 3000: the API. 9464: Prometheus /metrics (METRICS_HOST=0.0.0.0 to reach it from Prometheus;
# never publish it outside the private network).
EXPOSE 3000 9464
# node is the only tool in the slim image that can probe HTTP; fetch is built in since Node 18.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exec form: node is PID 1 and receives SIGTERM itself (graceful drain, src/platform/lifecycle/shutdown.ts).
CMD ["node", "dist/main.js"]
