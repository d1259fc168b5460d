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

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

CFLAGS   ?= -O2 -g
CFLAGS   += -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -Iinclude -I$(BUILD)
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Wextra -Werror \
	      -Wno-unused-parameter -Iinclude -Ibpf -I$(BUILD)
LDLIBS   := $(shell pkg-config --libs $(PKGS_LIB) 2>/dev/null || echo -lbpf -lxdp) -lelf -lz

BPF_HDRS  := $(wildcard bpf/*.h) include/synfence.h
USER_SRCS := $(wildcard user/*.c)
USER_OBJS := $(patsubst user/%.c,$(BUILD)/user/%.o,$(USER_SRCS))
USER_HDRS := $(wildcard user/*.h) include/synfence.h $(BUILD)/synfence.skel.h
UNIT_SRCS := $(wildcard tests/unit/*.c)
TEST_TOOLS := $(patsubst tests/tools/%.c,$(BUILD)/%,$(wildcard tests/tools/sfi_*.c))

# Debian packages the build, the demo and the tests need (installed by `make deps` when missing).
DEB_PKGS := clang llvm libbpf-dev libxdp-dev xdp-tools bpftool libelf-dev zlib1g-dev pkg-config \
	    gcc make iproute2 procps nginx-light curl iperf3 libsodium-dev jq tcpdump ethtool

.PHONY: all deps demo test unit clean
.SECONDARY:
all: $(BUILD)/synfence $(BUILD)/xdp_pass.bpf.o $(BUILD)/test_xdp $(TEST_TOOLS)

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

$(BUILD) $(BUILD)/user:
	$(Q)mkdir -p $@

$(BUILD)/vmlinux.h: | $(BUILD)
	$(call msg,GEN,$@)
	$(Q)test -r /sys/kernel/btf/vmlinux || { echo "no kernel BTF at /sys/kernel/btf/vmlinux: synfence needs CONFIG_DEBUG_INFO_BTF" >&2; exit 1; }
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) $(BUILD)/vmlinux.h | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/xdp_pass.bpf.o: tests/bpf/xdp_pass.bpf.c $(BUILD)/vmlinux.h | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

$(BUILD)/user/%.o: user/%.c $(USER_HDRS) | $(BUILD)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Iuser -c $< -o $@

$(BUILD)/synfence: $(USER_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

# Unit tests: the XDP program driven through bpf_prog_test_run_opts, libsodium as the cookie oracle.
$(BUILD)/test_xdp: $(UNIT_SRCS) $(wildcard tests/unit/*.h) include/synfence.h $(BUILD)/synfence.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/unit $(UNIT_SRCS) -o $@ $(LDLIBS) -lsodium

# Test tools: spoofed-packet sender, hand-made handshakes.
$(BUILD)/sfi_%: tests/tools/sfi_%.c tests/tools/sfi_common.h | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/demo.sh

test: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/run.sh

unit: $(BUILD)/test_xdp
	$(Q)$(BUILD)/test_xdp

clean:
	$(Q)rm -rf $(BUILD)
