# uxprobe's build. `make demo` and `make test` work on a fresh Debian machine
# with Go: they install what they need from Debian's packages when missing.
GO       ?= go
BIN      ?= bin/uxprobe
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BRANCH   ?= $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
# The commit's date rather than now, so that a rebuild of the same commit
# gives the same binary.
BUILD_DATE ?= $(shell git log -1 --format=%cd --date=format:%Y%m%d-%H:%M:%S 2>/dev/null || echo unknown)
# prometheus/common/version holds the build info, as in every Prometheus
# exporter: `uxprobe version` prints it and uxprobe_build_info exports it.
VERSION_PKG := github.com/prometheus/common/version
LDFLAGS  := -X $(VERSION_PKG).Version=$(VERSION) -X $(VERSION_PKG).Revision=$(REVISION) \
	-X $(VERSION_PKG).Branch=$(BRANCH) -X $(VERSION_PKG).BuildDate=$(BUILD_DATE)
# Fuzzing in `make test` is a short smoke run; `make fuzz` goes longer. The
# smoke runs are counts of inputs, not durations: with a duration, Go 1.26's
# fuzzing coordinator can fail the target with "context deadline exceeded"
# when the time runs out while a worker is busy (go.dev/issue/75804, fixed
# in Go 1.27), which failed a clean run of `make test` here with no failing
# input. 30000 inputs took about 6 s here.
FUZZTIME ?= 30000x
# Every benchmark runs this many times: enough for stable per-run figures
# of real browser runs, short enough for a 2-core machine.
BENCHTIME ?= 10x

export PATH := $(PATH):/usr/local/go/bin

# axe-core, the accessibility audit's engine, comes from npm, pinned (as
# scenarios.AxeVersion and the Dockerfile). It goes to the user's cache, not
# the checkout: every clone and the installed binary find the same copy
# there without a flag, `git clean` does not drop it, and a new version goes
# beside the old one.
AXE_VERSION := 4.10.3
AXE_DIR     := $${XDG_CACHE_HOME:-$$HOME/.cache}/uxprobe/axe-core-$(AXE_VERSION)

.PHONY: all build test demo bench soak fuzz docker chromium test-tools check-fmt clean axe

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/uxprobe

# apt_install PACKAGE COMMAND: install PACKAGE when COMMAND is missing, as
# root; otherwise say what to run.
define apt_install
	@if command -v $(2) >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "installing $(1) from Debian's packages"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(1) >/dev/null; \
	else \
		echo "$(1) is missing: run 'sudo apt-get install -y $(1)' and try again" >&2; exit 1; \
	fi
endef

# uxprobe runs Debian's chromium-headless-shell when it is there (Chrome's
# engine without the browser around it: a third of the CPU per run) and
# Chromium otherwise; both come from Debian's packages.
chromium:
	@if [ -n "$$UXPROBE_BROWSER" ] || { command -v chromium-headless-shell && command -v chromium; } >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "installing chromium and chromium-headless-shell from Debian's packages"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-headless-shell fonts-liberation >/dev/null; \
	elif command -v chromium-headless-shell >/dev/null 2>&1 || command -v chromium >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1; then \
		echo "note: 'sudo apt-get install -y chromium-headless-shell chromium' gives uxprobe both browsers it prefers" >&2; \
	else \
		echo "Chromium is missing: run 'sudo apt-get install -y chromium chromium-headless-shell' (or set UXPROBE_BROWSER to a Chrome binary) and try again" >&2; exit 1; \
	fi

# npm comes from Debian's packages (as root; otherwise say what to run);
# axe-core then installs as any user, into the cache.
axe:
	@if [ -f "$(AXE_DIR)/node_modules/axe-core/axe.min.js" ]; then :; else \
		if ! command -v npm >/dev/null 2>&1; then \
			if [ "$$(id -u)" = 0 ]; then \
				echo "installing npm from Debian's packages"; \
				apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >/dev/null; \
			else \
				echo "npm is missing (axe-core comes from npm): run 'sudo apt-get install -y npm' and try again" >&2; exit 1; \
			fi; \
		fi; \
		echo "installing axe-core $(AXE_VERSION) from npm into $(AXE_DIR)"; \
		npm install --silent --no-audit --no-fund --prefix "$(AXE_DIR)" axe-core@$(AXE_VERSION) >/dev/null; \
	fi

# The real parts the tests use as users run them: promtool for rule tests
# and `promtool check metrics`, Prometheus, Alertmanager and the Pushgateway,
# and PostgreSQL's server for the shared history (the tests start their own
# cluster in a temporary directory; see agent/pgtest).
test-tools:
	$(call apt_install,prometheus,promtool)
	$(call apt_install,prometheus-alertmanager,prometheus-alertmanager)
	$(call apt_install,prometheus-pushgateway,prometheus-pushgateway)
	@if ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || [ -n "$$PGBIN" ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "installing postgresql from Debian's packages"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null; \
	else \
		echo "postgresql is missing: run 'sudo apt-get install -y postgresql' and try again" >&2; exit 1; \
	fi

check-fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change: $$out" >&2; exit 1; fi
	$(GO) vet ./...

# -race: the agent, the runner and the browser owner are concurrent by
# design; the detector costs little next to Chrome's time. -parallel 4: a
# test package's parallel tests mostly wait (for pages that arrive late, for
# a settle bound), so four at a time on two cores take 222 s of the
# runner's package instead of 277-324 s, with the truth tests holding.
# The longest packages are named first: `go test` starts packages in the
# order given, and the runner's alone takes about as long as all the others
# together, so started last it was the suite's tail (runner from 100 s to
# 322 s, the rest done at 299 s). Two packages at a time (-p 2, the
# default on two cores): three took 4:17-4:56 from a fresh clone instead of
# 5:54, but the timing tests' windows (a hero painted within 100 ms of its
# frame, a fade seen to its end) failed in 3 of 5 runs beside the heavier
# load.
SLOWEST_PKGS := ./agent/runner ./cmd/uxprobe ./agent/audit
test: chromium axe test-tools check-fmt
	$(GO) test -race -count=1 -p 2 -parallel 4 -timeout 9m $(SLOWEST_PKGS) ./...
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./scenarios
	$(GO) test -run '^$$' -fuzz '^FuzzMask$$' -fuzztime 10000x ./scenarios
	$(GO) test -run '^$$' -fuzz '^FuzzParseFaults$$' -fuzztime 10000x ./agent/demoshop

demo: chromium axe build
	./$(BIN) demo

# Speed and memory goals are checked here, never by timed assertions in
# tests: the runner against a raw-chromedp baseline of the same flows (in
# process, and `uxprobe check` against a raw program as processes), the
# agent's memory with 100 flows, scrape time and start spread.
bench: chromium axe
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -timeout 20m ./agent/... ./exporters/... ./cmd/...

# A soak: 1000 runs of ordinary and hostile pages, two at a time, reporting
# goroutines, open files, tabs, Chrome processes and memory before and
# after (the figures are in the README). Minutes long, so not in `make test`.
SOAKRUNS ?= 1000
soak: chromium
	$(GO) test -run '^TestSoak$$' -count=1 -v -timeout 60m ./agent/runner -soak.runs=$(SOAKRUNS)

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 5m ./scenarios
	$(GO) test -run '^$$' -fuzz '^FuzzMask$$' -fuzztime 2m ./scenarios

docker:
	@command -v docker >/dev/null 2>&1 || { echo "docker is not installed" >&2; exit 1; }
	docker build --build-arg VERSION=$(VERSION) --build-arg REVISION=$(REVISION) \
		--build-arg BRANCH=$(BRANCH) --build-arg BUILD_DATE=$(BUILD_DATE) -t uxprobe:$(VERSION) .

clean:
	rm -rf bin
