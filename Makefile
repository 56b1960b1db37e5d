# The Makefile mirrors the `tiers` CLI verb for verb (and `dagger call` for CI); it adds only
# the set-up that must happen before the CLI can run. See README.md.
TIERS := npx --no-install tiers
ENV ?=
SERVICE ?=
TO ?=
DIGEST ?=
REASON ?=

.DEFAULT_GOAL := help
.PHONY: help setup provision pipeline check validate doctor build publish test test-clean \
	dev-up dev-down dev-logs dev-shell dev-status plan promote bless rollback reject status \
	sign verify deploy infra-plan infra-apply bench lint typecheck

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# --- set-up ----------------------------------------------------------------------------------
provision: ## install and start what the pipeline needs on this machine (root; idempotent)
	bash scripts/provision.sh

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund

setup: provision node_modules/.package-lock.json ## provision + install dependencies

# --- the two commands in the README ----------------------------------------------------------
pipeline: setup ## main job: validate, build, run the test tier, publish to the registry
	$(TIERS) validate
	$(TIERS) build
	$(TIERS) env test run
	$(TIERS) publish

check: setup ## the project's own test suite (what .ci/run runs)
	npm test

# --- verbs, one per tiers command ------------------------------------------------------------
validate: ## check every tier file and policy
	$(TIERS) validate
doctor: ## which tools are usable on this machine
	$(TIERS) doctor
build: ## build each service image once per commit (SERVICE= for one)
	$(TIERS) build $(if $(SERVICE),--service $(SERVICE))
publish: ## push images and record their digests
	$(TIERS) publish
test: ## run the test tier in ephemeral containers (always torn down)
	$(TIERS) env test run
test-clean: ## remove anything a crashed test-tier run left behind
	$(TIERS) env test clean
dev-up: ## start the dev stack with hot reload and wait until healthy
	$(TIERS) env dev up
dev-down: ## stop the dev stack (data volumes survive)
	$(TIERS) env dev down
dev-logs: ## follow dev logs (SERVICE= for one)
	$(TIERS) env dev logs -f $(SERVICE)
dev-shell: ## open a shell in a dev service (SERVICE=api)
	$(TIERS) env dev shell $(or $(SERVICE),api)
dev-status: ## health of each dev service
	$(TIERS) env dev status
plan: ## preview a promotion: ENV=staging|prod [DIGEST=]
	$(TIERS) plan --env $(ENV) $(if $(DIGEST),--digest $(DIGEST))
promote: ## promote to ENV=staging|prod after every gate passes [DIGEST=]
	$(TIERS) promote --env $(ENV) $(if $(DIGEST),--digest $(DIGEST))
bless: ## the human ceremony: show the plan, confirm, promote (ENV=)
	$(TIERS) env $(ENV) bless
rollback: ## restore an earlier pin: ENV= [TO=digest|commit]
	$(TIERS) rollback --env $(ENV) $(if $(TO),--to $(TO))
reject: ## mark an artefact never promotable: DIGEST= REASON=
	$(TIERS) reject --digest $(DIGEST) --reason "$(REASON)"
status: ## the whole ladder at a glance
	$(TIERS) status
sign: ## sign the tier's digest (ENV=)
	$(TIERS) sign --env $(ENV)
verify: ## verify the tier's digest against its signing policy (ENV=)
	$(TIERS) verify --env $(ENV)
deploy: ## render and apply the tier's overlay (ENV=)
	$(TIERS) deploy --env $(ENV)

infra-plan: ## plan the tier's infrastructure with its own state; prints summary + budget (ENV=)
	$(TIERS) infra plan --env $(ENV)

infra-apply: ## apply the tier's saved plan after its approvals gate (ENV=)
	$(TIERS) infra apply --env $(ENV)

# --- development -----------------------------------------------------------------------------
typecheck: ## strict TypeScript over the whole tree
	npm run typecheck
lint: ## biome lint + format check
	npm run lint
bench: ## print the benchmark figures
	npx tsx bench/cli-bench.ts
	npx tsx bench/pipeline-bench.ts
