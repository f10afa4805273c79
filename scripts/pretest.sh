#!/bin/sh
# Everything the test suite needs, brought up by `npm test` itself: system packages
# (installed when run as root, otherwise named), PostgreSQL and Redis, the typed client
# generated from schema/operations, and the GraphiQL bundle for the browser test.
set -eu
cd "$(dirname "$0")/.."
sh scripts/ensure-system-deps.sh
sh scripts/ensure-services.sh
npx graphql-codegen --config codegen.yml --silent
npm run build:server --silent
[ -f dist/graphiql/main.js ] || node scripts/build-client.mjs
# Lint (Biome, configured to the current style: no formatter, the recommended rules minus the ones this codebase opts out of in biome.json); errors stop the run, warnings are shown.
npx biome lint --max-diagnostics=20
