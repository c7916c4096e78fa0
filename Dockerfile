# One image for the web server, the delivery workers and one-off commands
# (docker-compose.yml runs them all). TypeScript runs through tsx, a runtime dependency:
# no build step. emails/ and newsletter.yaml are copied in, and compose mounts the
# repo's copies over them so a new post needs no rebuild.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY . .
# Not root; `render` writes dist/ and `demo` writes outbox/.
RUN mkdir -p dist outbox && chown node:node dist outbox
USER node
ENV HOST=0.0.0.0 PORT=3000
EXPOSE 3000
ENTRYPOINT ["node", "bin/newsletter.js"]
CMD ["server"]
