# tests/fuzz/fuzz.mk - hardening: fuzzers, the forgery test, sanitizer builds, lint. Included by the
# Makefile (uses its BUILD, CC, CFLAGS, CLANG, BPF_CFLAGS, LDLIBS, USER_SRCS, UNIT_SRCS).
#
#   make fuzz [FUZZ_SECONDS=N]   every fuzzer for N seconds (default 10) each; non-zero on a finding
#   make forgery                 >= 10 million forged ACKs per class through the XDP program, TC on
#                                what XDP accepted and on a sample of each class
#   make sanitize                userspace (build/asan/synfence) and the unit tests under ASan+UBSan
#   make lint                    cppcheck and clang-tidy on user/ (config: .clang-tidy, tests/lint/)
#   make fuzz-build              just build the fuzzers and the forgery test
# The fuzz and forgery binaries run in a network namespace of their own (tests/fuzz/run-in-netns.sh).

FUZZ_B       := $(BUILD)/fuzz
ASAN_B       := $(BUILD)/asan
FUZZ_CLANG   ?= clang
FUZZ_SECONDS ?= 10
SAN_FLAGS    := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
# clang, sanitizers; not -Werror: code of others may warn under clang only, and that must not stop
# a sanitizer run (`make lint` is where warnings are judged)
SAN_CFLAGS   := -g -O1 -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Iinclude -I$(BUILD) $(SAN_FLAGS)
# the test-run environment and the SYN-ACK checker, shared with the unit tests (tests/unit/)
FUZZ_ENV_SRCS := tests/unit/env.c tests/unit/synack.c tests/unit/pkt.c tests/unit/oracle.c tests/unit/sock.c
FUZZ_ENV_HDRS := tests/unit/env.h tests/unit/synack.h tests/unit/pkt.h tests/unit/oracle.h tests/unit/sock.h \
		 include/synfence.h $(BUILD)/synfence.skel.h
# the BPF fuzzer: driver, reference model, generator + mutator, invariants
FUZZ_BPF_SRCS := tests/fuzz/fuzz_bpf.c tests/fuzz/model.c tests/fuzz/gen.c tests/fuzz/invariants.c
FUZZ_BPF_HDRS := tests/fuzz/model.h tests/fuzz/gen.h tests/fuzz/invariants.h
CLI_SRCS     := $(filter-out user/main.c,$(USER_SRCS))
CLI_WRAPS    := -Wl,--wrap=sf_check_root -Wl,--wrap=sf_daemon_run
FUZZ_BINS    := $(FUZZ_B)/sf_fuzz_bpf $(FUZZ_B)/sf_fuzz_bpf_lf $(FUZZ_B)/sf_forge \
		$(FUZZ_B)/fuzz_ports $(FUZZ_B)/fuzz_conf $(FUZZ_B)/fuzz_cli

.PHONY: fuzz fuzz-build forgery sanitize lint

$(FUZZ_B) $(ASAN_B):
	$(Q)mkdir -p $@

# --- the BPF programs: seeded structure-aware fuzzer (CI) and its libFuzzer build ---------------
$(FUZZ_B)/sf_fuzz_bpf: $(FUZZ_BPF_SRCS) $(FUZZ_BPF_HDRS) $(FUZZ_ENV_SRCS) $(FUZZ_ENV_HDRS) | $(FUZZ_B)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/unit -Itests/fuzz $(FUZZ_BPF_SRCS) $(FUZZ_ENV_SRCS) -o $@ \
		$(LDLIBS) -lsodium

$(FUZZ_B)/sf_fuzz_bpf_lf: $(FUZZ_BPF_SRCS) $(FUZZ_BPF_HDRS) $(FUZZ_ENV_SRCS) $(FUZZ_ENV_HDRS) | $(FUZZ_B)
	$(call msg,FUZZ-CC,$@)
	$(Q)$(FUZZ_CLANG) $(SAN_CFLAGS) -fsanitize=fuzzer -DSF_LIBFUZZER -Itests/unit -Itests/fuzz \
		$(FUZZ_BPF_SRCS) $(FUZZ_ENV_SRCS) -o $@ $(LDLIBS) -lsodium

# --- forgery test: an XDP generator tail-calling synfence_xdp, then TC test runs ------------------
$(FUZZ_B)/sf_forge.bpf.o: tests/fuzz/sf_forge.bpf.c tests/fuzz/forge.h $(BPF_HDRS) $(BUILD)/vmlinux.h | $(FUZZ_B)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -Itests/fuzz -c $< -o $@

$(FUZZ_B)/sf_forge: tests/fuzz/forge.c tests/fuzz/forge.h $(FUZZ_ENV_SRCS) $(FUZZ_ENV_HDRS) \
		    $(FUZZ_B)/sf_forge.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -I$(FUZZ_B) -Itests/unit -Itests/fuzz tests/fuzz/forge.c $(FUZZ_ENV_SRCS) \
		-o $@ $(LDLIBS) -lsodium -lm

# --- userspace parsers under libFuzzer + ASan/UBSan ------------------------------------------------
$(FUZZ_B)/fuzz_ports: tests/fuzz/fuzz_ports.c tests/fuzz/require.h user/conf/ports.c user/conf/ports.h \
		      user/lib/util.c user/lib/util.h include/synfence.h | $(FUZZ_B)
	$(call msg,FUZZ-CC,$@)
	$(Q)$(FUZZ_CLANG) $(SAN_CFLAGS) -fsanitize=fuzzer -Iuser $< user/conf/ports.c user/lib/util.c -o $@

$(FUZZ_B)/fuzz_conf: tests/fuzz/fuzz_conf.c tests/fuzz/require.h user/conf/settings.c user/conf/settings.h user/conf/listen_addr.c user/conf/listen_addr.h \
		     user/conf/listfile.c user/conf/listfile.h \
		     user/lib/xdp_mode.h user/conf/ports.c user/conf/ports.h user/lib/util.c user/lib/util.h include/synfence.h \
		     | $(FUZZ_B)
	$(call msg,FUZZ-CC,$@)
	$(Q)$(FUZZ_CLANG) $(SAN_CFLAGS) -fsanitize=fuzzer -Iuser $< user/conf/settings.c user/conf/listen_addr.c user/conf/listfile.c user/conf/ports.c user/lib/util.c \
		-o $@ -linih

$(FUZZ_B)/cli_main.o: user/main.c $(USER_HDRS) | $(FUZZ_B)
	$(call msg,FUZZ-CC,$@)
	$(Q)$(FUZZ_CLANG) $(SAN_CFLAGS) -fsanitize=fuzzer-no-link -Dmain=sf_cli_main -Iuser -c $< -o $@

$(FUZZ_B)/fuzz_cli: tests/fuzz/fuzz_cli.c $(FUZZ_B)/cli_main.o $(CLI_SRCS) $(USER_HDRS)
	$(call msg,FUZZ-CC,$@)
	$(Q)$(FUZZ_CLANG) $(SAN_CFLAGS) -fsanitize=fuzzer -Iuser tests/fuzz/fuzz_cli.c \
		$(FUZZ_B)/cli_main.o $(CLI_SRCS) -o $@ $(CLI_WRAPS) $(LDLIBS) $(SYNFENCE_LIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: deps
	$(Q)$(MAKE) --no-print-directory fuzz-build
	$(Q)BUILD=$(BUILD) tests/fuzz/fuzz.sh $(FUZZ_SECONDS)

forgery: deps
	$(Q)$(MAKE) --no-print-directory $(FUZZ_B)/sf_forge
	$(Q)tests/fuzz/run-in-netns.sh $(FUZZ_B)/sf_forge

# --- userspace and the unit tests built with ASan + UBSan -------------------------------------------
$(ASAN_B)/synfence: $(USER_SRCS) $(USER_HDRS) | $(ASAN_B)
	$(call msg,ASAN-CC,$@)
	$(Q)$(FUZZ_CLANG) $(SAN_CFLAGS) -Iuser $(USER_SRCS) -o $@ $(LDLIBS) $(SYNFENCE_LIBS)

$(ASAN_B)/test_xdp: $(UNIT_SRCS) $(wildcard tests/unit/*.h) include/synfence.h $(BUILD)/synfence.skel.h | $(ASAN_B)
	$(call msg,ASAN-CC,$@)
	$(Q)$(FUZZ_CLANG) $(SAN_CFLAGS) -Itests/unit $(UNIT_SRCS) -o $@ $(LDLIBS) -lsodium

sanitize: $(ASAN_B)/synfence $(ASAN_B)/test_xdp

lint:
	$(Q)BUILD=$(BUILD) tests/lint/lint.sh
