# One build of the four Lambda bootstraps, shared by `sam build` and by hand.
#
# template.yaml builds each function with `BuildMethod: makefile`: `sam build`
# runs `make build-<LogicalId>` here (BuildInSource, so target/ is reused),
# which runs the `cargo lambda build`s below (no-ops once they are fresh) and
# copies that function's bootstrap into $(ARTIFACTS_DIR). Nothing is compiled
# once per function. See docs/deploy-aws.md.
#
#   make lambdas                       the four bootstraps, target/lambda/<name>/bootstrap
#   make lambdas LAMBDA_ARCH=--x86-64  for x86_64 functions instead of arm64

LAMBDA_PROFILE ?= aws-lambda
LAMBDA_ARCH ?= --arm64
LAMBDA_DIR := target/lambda
FUNCTIONS := ingest api detect alert

.PHONY: lambdas build-IngestFunction build-ApiFunction build-DetectFunction build-AlertFunction

# One package per cargo invocation: built together, cargo would unify their
# features and every function would link every backend client.
# ingest is built at opt-level 3: parsing is its work, and 3 parses a
# 1,000-event batch about 25% faster than "s" for a bootstrap still under
# 5 MB (docs/deploy-aws.md, "opt-level").
INGEST_OPT_LEVEL ?= 3
lambdas:
	set -e; for f in $(FUNCTIONS); do \
		opt=$$(if [ $$f = ingest ]; then echo $(INGEST_OPT_LEVEL); else echo s; fi); \
		CARGO_PROFILE_AWS_LAMBDA_OPT_LEVEL=$$opt \
			cargo lambda build --locked --profile $(LAMBDA_PROFILE) $(LAMBDA_ARCH) -p anomalog-$$f-lambda; \
	done

# $(1): the template's logical id, $(2): the function.
define copy_bootstrap
build-$(1): lambdas
	@test -n "$$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is set by sam build" >&2; exit 1; }
	mkdir -p "$$(ARTIFACTS_DIR)"
	cp $(LAMBDA_DIR)/anomalog-$(2)-lambda/bootstrap "$$(ARTIFACTS_DIR)/bootstrap"
endef

$(eval $(call copy_bootstrap,IngestFunction,ingest))
$(eval $(call copy_bootstrap,ApiFunction,api))
$(eval $(call copy_bootstrap,DetectFunction,detect))
$(eval $(call copy_bootstrap,AlertFunction,alert))
