# One image for every service; the command picks which one runs:
#   docker run IMAGE gateway/dist/main.js
#   docker run IMAGE subgraphs/campaigns/dist/main.js   (segments, email, analytics; reference/ecommerce)
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/platform/package.json packages/platform/
COPY packages/stack/package.json packages/stack/
COPY reference/ecommerce/package.json reference/ecommerce/
COPY subgraphs/campaigns/package.json subgraphs/campaigns/
COPY subgraphs/segments/package.json subgraphs/segments/
COPY subgraphs/email/package.json subgraphs/email/
COPY subgraphs/analytics/package.json subgraphs/analytics/
COPY gateway/package.json gateway/
COPY bench/package.json bench/
# The image's own Node.js 24 runs everything: no install scripts (the `node` dev dependency would
# download a second runtime; embedded PostgreSQL is for local runs only).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.base.json tsconfig.json ./
COPY packages packages
COPY reference reference
COPY subgraphs subgraphs
COPY gateway gateway
COPY bench bench
COPY schema schema
RUN node node_modules/typescript/bin/tsc -b && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /app /app
USER node
ENTRYPOINT ["node"]
CMD ["gateway/dist/main.js"]
