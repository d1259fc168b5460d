# synfence - build with an out-of-tree build directory (BUILD=build). V=1 shows the commands.

BUILD    ?= build
CLANG    ?= clang
BPFTOOL  ?= bpftool
CC       ?= gcc
PKGS_LIB := libbpf libxdp

ifeq ($(V),1)
Q :=
msg =
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# The version: written in one place, the top entry of contrib/debian/changelog (`synfence --version`,
# status -j, the metrics and the .deb all take it from there). VERSION=X overrides it for a test build.
VERSION ?= $(shell sed -n '1s/^synfence (\([^ ]*\)) .*/\1/p' contrib/debian/changelog)

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

CFLAGS   ?= -O2 -g
CFLAGS   += -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -Iinclude -I$(BUILD)
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Wextra -Werror \
	      -Iinclude -Ibpf -I$(BUILD)
LDLIBS   := $(shell pkg-config --libs $(PKGS_LIB) 2>/dev/null || echo -lbpf -lxdp) -lelf -lz
# run's daemon: config file (libinih), sd_notify (libsystemd), shared-secret key derivation (libsodium)
LDLIBS   += -linih -lsystemd -lsodium

BPF_HDRS  := $(wildcard bpf/*.h) include/synfence.h
USER_SRCS := $(wildcard user/*.c user/*/*.c)
USER_OBJS := $(patsubst user/%.c,$(BUILD)/user/%.o,$(USER_SRCS))
# The same sources built with the fault-injection hook (user/lib/mapio.h), for tests/integration/94-faults.sh
FAULT_OBJS := $(patsubst user/%.c,$(BUILD)/faults/%.o,$(USER_SRCS))
USER_HDRS := $(wildcard user/*/*.h) include/synfence.h $(BUILD)/synfence.skel.h $(BUILD)/version.h
UNIT_SRCS := $(wildcard tests/unit/*.c)
TEST_TOOLS := $(patsubst tests/tools/%.c,$(BUILD)/%,$(wildcard tests/tools/sfi_*.c))
# Flood lab and benchmark (tests/bpf/sf_*.bpf.c, tests/tools/sf_*.c, tests/bench/): `make bench`.
BENCH_BPF   := $(patsubst tests/bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(wildcard tests/bpf/sf_*.bpf.c))
BENCH_TOOLS := $(BUILD)/sf_flood $(BUILD)/sf_connect

# Debian packages the build, the demo and the tests need (installed by `make deps` when missing).
DEB_PKGS := clang llvm libbpf-dev libxdp-dev xdp-tools bpftool libelf-dev zlib1g-dev pkg-config \
	    gcc make iproute2 procps nginx-light curl iperf3 libsodium-dev jq tcpdump ethtool \
	    nftables gnuplot-nox libinih-dev libsystemd-dev systemd
# the bench's peacetime load: ab, one connection per request
DEB_PKGS += apache2-utils
# observability: the metrics server, the man page, the stats/metrics/--watch tests
DEB_PKGS += libmicrohttpd-dev scdoc python3-prometheus-client tmux man-db
# hardening: libFuzzer and the sanitizer runtimes of clang-14, static analysis (tests/fuzz/fuzz.mk)
DEB_PKGS += libclang-rt-14-dev cppcheck clang-tidy util-linux
# packaging: make deb, make test-package (a Debian 12 root booted with systemd-nspawn)
DEB_PKGS += debhelper dpkg-dev lintian debootstrap systemd-container
# 24-shared-secret holds one syscall of the daemon for a period (strace's fault injection)
DEB_PKGS += strace

# the metrics server of `synfence run` (libmicrohttpd); the man page (scdoc source, rendered here)
SYNFENCE_LIBS := $(shell pkg-config --libs libmicrohttpd 2>/dev/null || echo -lmicrohttpd)
MAN_PAGES := $(BUILD)/synfence.8 $(BUILD)/synfence.conf.5

.PHONY: all deps demo test unit bench soak clean man FORCE
.SECONDARY:
all: $(BUILD)/synfence $(BUILD)/synfence-faults $(MAN_PAGES) $(BUILD)/xdp_pass.bpf.o $(BUILD)/synfence_nosample.bpf.o $(BUILD)/test_xdp $(TEST_TOOLS) $(BENCH_BPF) $(BENCH_TOOLS)

deps:
	$(Q)missing=$$(for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "  DEPS     installing:" $$missing; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null || \
			{ echo "make deps: apt-get install failed for:" $$missing >&2; exit 1; }; \
	fi

$(BUILD) $(BUILD)/user $(BUILD)/faults:
	$(Q)mkdir -p $@

$(BUILD)/vmlinux.h: | $(BUILD)
	$(call msg,GEN,$@)
	$(Q)test -r /sys/kernel/btf/vmlinux || { echo "no kernel BTF at /sys/kernel/btf/vmlinux: synfence needs CONFIG_DEBUG_INFO_BTF" >&2; exit 1; }
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) $(BUILD)/vmlinux.h | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# The bench's variant of the XDP program without the sampling code (test_xdp --bench-sampling).
$(BUILD)/synfence_nosample.bpf.o: bpf/synfence.bpf.c $(BPF_HDRS) $(BUILD)/vmlinux.h | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DSF_BENCH_NO_SAMPLING -c $< -o $@

$(BUILD)/xdp_pass.bpf.o: tests/bpf/xdp_pass.bpf.c $(BUILD)/vmlinux.h | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# BPF test programs: the flood generator, the XDP floors of the bench, the client-side sink.
$(BUILD)/%.bpf.o: tests/bpf/%.bpf.c $(wildcard tests/bpf/*.h) $(BUILD)/vmlinux.h | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

# SYNFENCE_VERSION for user/cmd/cmd.h; the file changes (and the objects are rebuilt) only when it does.
$(BUILD)/version.h: FORCE | $(BUILD)
	$(Q)test -n "$(VERSION)" || { echo "no version: contrib/debian/changelog has no 'synfence (X)' first line" >&2; exit 1; }
	$(Q)v='#define SYNFENCE_VERSION "$(VERSION)"'; [ "$$(cat $@ 2>/dev/null)" = "$$v" ] || echo "$$v" > $@

# (CPPFLAGS, LDFLAGS: the hardening flags of a Debian package build)
$(BUILD)/user/%.o: user/%.c $(USER_HDRS) | $(BUILD)/user
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -Iuser -c $< -o $@

$(BUILD)/synfence: $(USER_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ -o $@ $(LDLIBS) $(SYNFENCE_LIBS)

# Test build only: map updates can be made to fail (SF_FAULT_MAP_UPDATE=N, see user/lib/mapio.h).
$(BUILD)/faults/%.o: user/%.c $(USER_HDRS) | $(BUILD)/faults
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -DSF_FAULT_INJECTION -Iuser -c $< -o $@

$(BUILD)/synfence-faults: $(FAULT_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS) $(SYNFENCE_LIBS)

man: $(MAN_PAGES)
$(BUILD)/%.8: doc/%.8.scd | $(BUILD)
	$(call msg,SCDOC,$@)
	$(Q)command -v scdoc >/dev/null || { echo "scdoc not found (make deps installs it)" >&2; exit 1; }
	$(Q)scdoc < $< > $@.tmp && mv $@.tmp $@
# synfence.conf(5): its template with the CONFIGURATION section of synfence.8.scd in place of the
# @CONFIGURATION@ line (one text for both pages)
$(BUILD)/synfence.conf.5: doc/synfence.conf.5.scd doc/synfence.8.scd | $(BUILD)
	$(call msg,SCDOC,$@)
	$(Q)command -v scdoc >/dev/null || { echo "scdoc not found (make deps installs it)" >&2; exit 1; }
	$(Q)awk 'FNR == NR { if (/^# /) on = $$0 == "# CONFIGURATION"; else if (on) text = text $$0 "\n"; next } \
		$$0 == "@CONFIGURATION@" { printf "%s", text; next } { print }' doc/synfence.8.scd $< | scdoc > $@.tmp && mv $@.tmp $@

# Unit tests: the XDP program driven through bpf_prog_test_run_opts, libsodium as the cookie oracle.
$(BUILD)/test_xdp: $(UNIT_SRCS) $(wildcard tests/unit/*.h) include/synfence.h $(BUILD)/synfence.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/unit $(UNIT_SRCS) -o $@ $(LDLIBS) -lsodium

# Test tools: spoofed-packet sender, hand-made handshakes; sfi_sample holds sampling through lib/sample.c.
SAMPLE_LIB_OBJS := $(patsubst %,$(BUILD)/user/lib/%.o,sample mapio proc util)
$(BUILD)/sfi_sample: tests/tools/sfi_sample.c $(SAMPLE_LIB_OBJS) | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Iuser $^ -o $@ $(LDLIBS)

$(BUILD)/sfi_%: tests/tools/sfi_%.c tests/tools/sfi_common.h | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@

# Flood generator (its XDP programs are embedded as a skeleton; sf_gen.h writes the frames for
# them and for its socket engines) and bench helpers.
$(BUILD)/sf_flood: tests/tools/sf_flood.c tests/tools/sfi_common.h tests/bpf/sf_gen.h $(BUILD)/sf_gen.skel.h | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/bpf $< -o $@ $(LDLIBS)

$(BUILD)/sf_%: tests/tools/sf_%.c | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@ $(LDLIBS)

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/demo.sh

test: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/run.sh

# The side-by-side benchmark (7-10 minutes, needs both CPUs; not part of `make test`).
bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) tests/bench/bench.sh

# The soak test: legitimate load, floods and secret rotation for SOAK_SECONDS (not part of `make test`).
SOAK_SECONDS ?= 300
soak: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) SOAK_SECONDS=$(SOAK_SECONDS) tests/soak/soak.sh

unit: $(BUILD)/test_xdp
	$(Q)$(BUILD)/test_xdp

# fuzz, forgery, sanitize, lint, fuzz-build
include tests/fuzz/fuzz.mk
# install, uninstall, deb, test-package
include contrib/pkg.mk

clean:
	$(Q)rm -rf $(BUILD)
