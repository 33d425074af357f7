# Every target installs dependencies first when package-lock.json is newer than node_modules.
.DEFAULT_GOAL := help
STAMP := node_modules/.package-lock.json

.PHONY: help install build typecheck lint test test-faults start up down logs bench bench-quick bench-store bench-targets

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): package.json package-lock.json contracts/package.json dev-mongo/package.json messaging/package.json telemetry/package.json service-runtime/package.json task-store-service/package.json executor-service/package.json gateway-service/package.json cli/package.json testkit/package.json
	@echo "installing dependencies (npm ci)"
	npm ci --no-audit --no-fund
	@touch $(STAMP)

install: $(STAMP) ## install dependencies (npm ci) when missing or stale

build: install ## compile every workspace to dist/
	npm run build

typecheck: install ## type-check all workspaces, tests and benchmarks
	npx tsc -p tsconfig.json
	npx tsc -p gateway-service/dashboard/tsconfig.json

lint: typecheck ## type-check, eslint, prettier and the import checks (no circles, no other workspace's src/)
	npx eslint .
	npx prettier --check .
	npx depcruise --config .dependency-cruiser.cjs contracts/src messaging/src telemetry/src service-runtime/src dev-mongo/src \
		task-store-service/src gateway-service/src gateway-service/dashboard executor-service/src cli/src \
		bench e2e faults scripts testkit/src contracts/test dev-mongo/test service-runtime/test \
		task-store-service/test gateway-service/test executor-service/test cli/test

test: install ## run every test against real services (provisions MongoDB; see README)
	npm test

test-faults: install ## crashes, restarts and disconnects under load (11-25 minutes; docs/reliability.md)
	npx mocha --config .mocharc.faults.cjs

start: install ## run the whole system locally (EXECUTORS=N for more executors)
	npm start -- --executors $(or $(EXECUTORS),1)

COMPOSE := $(shell docker compose version >/dev/null 2>&1 && echo 'docker compose' || echo docker-compose)

up: ## run everything in containers (docker compose; EXECUTORS=N for more executors)
	$(COMPOSE) up -d --build --scale executor-service=$(or $(EXECUTORS),1)

down: ## stop the containers (MongoDB and RabbitMQ data stay in their volumes)
	$(COMPOSE) down

logs: ## follow the containers' logs (SERVICE=name for one)
	$(COMPOSE) logs -f --tail=100 $(SERVICE)

bench: install ## every benchmark scenario, then BENCHMARKS.md (at most ~13 minutes; ONLY=a,b for some; ALLOW_BUSY=1)
	npx tsx --conditions=source bench/run.ts $(if $(ONLY),--only=$(ONLY)) $(if $(ALLOW_BUSY),--allow-busy)

bench-quick: install ## every benchmark scenario, short runs (about 3 minutes)
	npx tsx --conditions=source bench/run.ts --quick $(if $(ONLY),--only=$(ONLY)) $(if $(ALLOW_BUSY),--allow-busy)

bench-targets: install ## check issue 13's targets against a running make start (PREFILL=1 writes 30,000 tasks into it first)
	npx tsx --conditions=source bench/targets.ts $(if $(PREFILL),--prefill)

bench-store: install ## the task-store benchmark alone (about 10 minutes; QUICK=1 for ~2)
	npx tsx --conditions=source bench/store-bench.ts $(if $(QUICK),--quick)
