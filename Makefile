# CliniConnects Identity — build, test and lint entry points.
#
# Works on a fresh Debian with only Go installed: apt packages needed for the
# Fyne admin app (cgo) and Chromium (page tests) are installed by `make deps`.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Go lives in /usr/local/go on the project's machines; use it when `go` is
# not already on PATH.
ifeq ($(shell command -v go 2>/dev/null),)
export PATH := /usr/local/go/bin:$(PATH)
endif

GO        ?= go
BIN       := bin
MODULES   := idp shared adminapp migrations
PKGS      := $(addprefix ./,$(addsuffix /...,$(MODULES)))
# The password policy's zxcvbn, forked (its FORK.md says why): a module of
# its own outside the workspace, tested on its own.
ZXCVBN    := idp/third_party/zxcvbn
TESTFLAGS ?=
ARGS      ?=

# sudo only when not root.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

# Debian packages for Fyne's cgo build (go-gl/glfw X11 + go-gl/gl):
#   gcc, libc6-dev, pkg-config  - the C toolchain cgo drives (pkg-config: gl)
#   libgl1-mesa-dev             - GL headers, libGL.so and gl.pc
#   libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev
#   libxxf86vm-dev              - headers and -l libraries glfw links on X11
FYNE_APT_PKGS := gcc libc6-dev pkg-config libgl1-mesa-dev \
	libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev
CHROMIUM_APT_PKGS := chromium
# Fault tests (idp/internal/faults) stop and restart a throwaway PostgreSQL
# cluster of their own: initdb, pg_ctl and the postgres user.
POSTGRES_APT_PKGS := postgresql
# make screenshots: a virtual X screen and ImageMagick's import.
SCREENSHOT_APT_PKGS := xvfb imagemagick

# $(call apt_ensure,PACKAGES): install the PACKAGES that are not installed.
# Silent when everything is present; apt runs are serialised with flock so
# `make -j deps` is safe.
define apt_ensure
missing=""; \
for p in $(1); do \
	case "$$(dpkg -s "$$p" 2>/dev/null)" in \
	*"Status: install ok installed"*) ;; \
	*) missing="$$missing $$p" ;; \
	esac; \
done; \
if [ -n "$$missing" ]; then \
	echo "deps: installing$$missing"; \
	lock=""; command -v flock >/dev/null && lock="flock /tmp/.cliniconnects-apt.lock"; \
	$(SUDO) $$lock apt-get update -qq; \
	$(SUDO) $$lock env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		-o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=300 $$missing >/dev/null; \
	echo "deps: installed$$missing"; \
fi
endef

.PHONY: help deps deps-fyne deps-chromium deps-postgres run build build-idp build-adminapp \
	screenshots test mutants bench lint clean

help: ## list targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
		awk -F':.*## ' '{ printf "  %-16s %s\n", $$1, $$2 }'

deps: deps-fyne deps-chromium deps-postgres ## install all apt packages the build and tests need

deps-fyne: ## install apt packages for the Fyne admin app (cgo, GL, X11)
	@$(call apt_ensure,$(FYNE_APT_PKGS))

deps-chromium: ## install Chromium for page tests
	@$(call apt_ensure,$(CHROMIUM_APT_PKGS))

deps-postgres: ## install PostgreSQL's initdb and pg_ctl for the fault tests' throwaway clusters
	@$(call apt_ensure,$(POSTGRES_APT_PKGS))

run: ## build and run the IdP (`make run ARGS=...` passes flags to serve)
	CGO_ENABLED=0 $(GO) run ./idp/cmd/idp serve $(ARGS)

build: build-idp build-adminapp ## build bin/idp and bin/cliniconnects-admin

build-idp: ## build bin/idp (pure Go, CGO_ENABLED=0)
	@mkdir -p $(BIN)
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/idp ./idp/cmd/idp

build-adminapp: deps-fyne ## build bin/cliniconnects-admin, the desktop admin app (cgo)
	@mkdir -p $(BIN)
	CGO_ENABLED=1 $(GO) build -trimpath -o $(BIN)/cliniconnects-admin ./adminapp

# The real app under Xvfb against a seeded local provider; writes the PNGs
# the README shows (adminapp/docs/screenshots/).
screenshots: build-idp build-adminapp ## PNGs of the admin app's main screens into adminapp/docs/screenshots
	@$(call apt_ensure,$(SCREENSHOT_APT_PKGS))
	@CGO_ENABLED=0 $(GO) build -o $(BIN)/screenshots ./adminapp/cmd/screenshots
	$(BIN)/screenshots -idp $(BIN)/idp -app $(BIN)/cliniconnects-admin -out adminapp/docs/screenshots

# The tests `make test` runs alone, after the rest (a -run/-skip pattern).
ALONE_TESTS := ^(TestFlood|TestDatabaseOutage|TestReplicaKill)$$

# go test -json through idp/cmd/testreport: one line per top-level test (the
# storage conformance suite shows as TestSQLite and TestPostgres), the full
# output of whatever failed or skipped, and a closing "N passed, N failed".
test: deps build-adminapp ## build the admin app, then run every module's tests (extra flags: TESTFLAGS=...)
	@mkdir -p $(BIN)
	@$(GO) build -o $(BIN)/testreport ./idp/cmd/testreport
	@# TestFlood measures latency under a flood, and the fault tests load the
	@# machine while they stop databases and kill replicas: they run alone,
	@# one package at a time, after the rest.
	{ s=0; \
	  CGO_ENABLED=1 $(GO) test -json -count=1 -timeout 20m -p 2 -skip '$(ALONE_TESTS)' $(TESTFLAGS) $(PKGS) || s=1; \
	  CGO_ENABLED=1 $(GO) test -json -count=1 -timeout 10m -p 1 -run '$(ALONE_TESTS)' $(TESTFLAGS) ./idp/cmd/idpbench ./idp/internal/faults || s=1; \
	  (cd $(ZXCVBN) && GOWORK=off $(GO) test -json -count=1 ./...) || s=1; \
	  exit $$s; } 2>&1 | $(BIN)/testreport

# .ci/mutants/run: each .ci/mutants/*.mutant breaks one security property in
# a throwaway copy of the working tree and runs the tests that must notice;
# it prints "killed NAME by TestX" or "SURVIVED NAME". Slow, so not part of
# `make test` (CI runs it with CI_MUTANTS=1). MUTANTS="a b" runs only those.
mutants: ## break each security property on purpose (.ci/mutants) and check a test fails (MUTANTS="name ...")
	@bash .ci/mutants/run $(MUTANTS)

# idp/cmd/idpbench: latency percentiles and CPU per operation (sign-in,
# token, refresh, userinfo, introspection; user list and search on 100,000
# users) on SQLite and PostgreSQL (IDP_BENCH_POSTGRES, else
# IDP_TEST_POSTGRES, else local; skipped with a note when unreachable),
# then a 10 s flood of the real bin/idp (peak RSS, probe p99).
bench: build-idp ## latency percentiles and CPU per operation, and the flood, on SQLite and PostgreSQL (extra flags: BENCHFLAGS=...)
	@mkdir -p $(BIN)
	@CGO_ENABLED=0 $(GO) build -o $(BIN)/idpbench ./idp/cmd/idpbench
	$(BIN)/idpbench -backend both -n 200 -users 100000 -idp $(BIN)/idp $(BENCHFLAGS)

lint: deps-fyne ## gofmt check and go vet for every module
	@out="$$(gofmt -l $(MODULES))"; \
	if [ -n "$$out" ]; then echo "gofmt: these files need formatting:"; echo "$$out"; exit 1; fi
	@for m in $(MODULES); do \
		echo "go vet ./$$m/..."; \
		(cd $$m && CGO_ENABLED=1 $(GO) vet ./...); \
	done

clean: ## remove build output (bin/; never data/)
	rm -rf $(BIN)
