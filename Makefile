# hull — build, test, install. See README.md.
PREFIX  ?= /usr/local
BUILD   ?= build
CC      ?= cc
PKGS    := libcap libseccomp yajl libmnl libnftnl libarchive libcrypto
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
WERROR  ?= -Werror
# CFLAGS/LDFLAGS stay the user's (make CFLAGS=... works); the project's own
# flags are always added on top.
CFLAGS  ?= -O2 -g
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
ALL_CFLAGS  = -std=gnu17 -Wall -Wextra $(WERROR) -Wno-unused-parameter -Wno-format-truncation -D_GNU_SOURCE \
              -iquote . $(PKG_CFLAGS) -DHULL_VERSION='"$(VERSION)"' $(CFLAGS)
ALL_LDFLAGS = -Wl,--as-needed -Wl,-O1 $(LDFLAGS)
LDLIBS  += $(PKG_LIBS)

# Every .c in a library folder goes into libhull.a; cli/ holds hull's main(),
# vm/vmm/main.c hull-vmm's, vm/agent/ the guest agent's. ARCHITECTURE.md says
# which folder may include which (tests/lib/check-layers.sh enforces it).
VM_DIRS  := vm/core vm/devices vm/devices/virtio vm/devices/legacy vm/boot vm/guest vm/proto vm/executor vm/vmm
LIB_DIRS := base lifecycle linux cgroups image net $(VM_DIRS)
LIB_SRC  := $(filter-out vm/vmm/main.c,$(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c)))
CLI_SRC  := $(wildcard cli/*.c)
# Test doubles (*_sim.c: a guest-side virtqueue driver, ...) and test support
# (*_testlib.c: functions only the tests call): linked into the unit tests only.
TESTLIB_SRC := $(wildcard tests/lib/*_sim.c tests/lib/*_testlib.c)
TESTLIB_OBJ := $(TESTLIB_SRC:%.c=$(BUILD)/obj/%.o)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)

.PHONY: all deps demo check check-fast unit integration asan bench install clean fuzz
all: $(BUILD)/hull $(BUILD)/hull-vmm $(BUILD)/hull-agent $(BUILD)/busybox-oci/index.json

# The built-in default image (an OCI layout; `make demo` imports it as busybox:latest).
$(BUILD)/busybox-oci/index.json: image/make-busybox-image.sh
	@rm -rf $(BUILD)/busybox-oci
	$(Q)./image/make-busybox-image.sh $(BUILD)/busybox-oci >/dev/null

Q := @
ifeq ($(V),1)
Q :=
endif

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC  $<"
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libhull.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/libhulltest.a: $(TESTLIB_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/hull: $(CLI_OBJ) $(BUILD)/libhull.a
	@echo "  LD  $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libhull.a $(LDLIBS)

# The microVM guest agent (vm/agent/): PID 1 of the guest, static because the
# initramfs has no libc. Sanitizer builds cannot link statically: there it is a
# dynamic binary, good for its host-side tests only.
AGENT_SRC := $(wildcard vm/agent/*.c)
AGENT_OBJ := $(AGENT_SRC:%.c=$(BUILD)/obj/%.o)
AGENT_STATIC := $(if $(findstring -fsanitize,$(CFLAGS) $(LDFLAGS)),,-static)
$(BUILD)/hull-agent: $(AGENT_OBJ) $(BUILD)/libhull.a
	@echo "  LD  $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $(AGENT_STATIC) -o $@ $(AGENT_OBJ) $(BUILD)/libhull.a -lseccomp -lcap -lyajl_s

# The VMM process (`hull vmm` execs it): the VMM and libc only, so a running microVM
# costs little more than its guest RAM.
VMM_OBJ := $(BUILD)/obj/vm/vmm/main.o
$(BUILD)/hull-vmm: $(VMM_OBJ) $(BUILD)/libhull.a
	@echo "  LD  $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(VMM_OBJ) $(BUILD)/libhull.a -lpthread

$(BUILD)/tests/unit/%: tests/unit/%.c tests/lib/tap.h $(BUILD)/libhulltest.a $(BUILD)/libhull.a
	@mkdir -p $(dir $@)
	@echo "  CC  $<"
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -Itests/lib -o $@ $< $(BUILD)/libhulltest.a $(BUILD)/libhull.a $(LDLIBS)

deps:
	./tests/lib/install-deps.sh

# The README's first command ends here: a busybox container from a built-in default.
demo: $(BUILD)/hull $(BUILD)/busybox-oci/index.json
	$(BUILD)/hull image import $(BUILD)/busybox-oci --name busybox:latest
	$(BUILD)/hull run --rm --network none busybox echo hello from a hull container
	./tests/lib/demo.sh $(BUILD)/hull $(BUILD)/demo

unit: $(UNIT_BIN)

# The README's test command. Unit tests first (fast), then integration tests against build/hull.
check: $(BUILD)/hull $(BUILD)/hull-vmm $(BUILD)/hull-agent $(UNIT_BIN)
	HULL=$(abspath $(BUILD)/hull) prove $(PROVE_FLAGS) tests/lint/*.t $(UNIT_BIN) tests/integration/*.t

# The fast loop (about two minutes): unit tests plus every integration file whose header says
# `# tier: fast` (no qemu, no client daemons), picked from that line, so a new file with the
# header joins it. `make check` stays the full suite.
HASH := \#
FAST_T = $(shell awk 'FNR <= 5 && /^$(HASH) tier: fast([^a-z-]|$$)/ { print FILENAME; nextfile }' tests/integration/*.t)
check-fast: $(BUILD)/hull $(BUILD)/hull-vmm $(BUILD)/hull-agent $(UNIT_BIN)
	HULL=$(abspath $(BUILD)/hull) prove $(PROVE_FLAGS) tests/lint/*.t $(UNIT_BIN) $(FAST_T)

asan:
	$(MAKE) BUILD=build-asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer" \
	    LDFLAGS="-fsanitize=address,undefined" check

bench: $(BUILD)/hull $(BUILD)/hull-vmm
	HULL=$(abspath $(BUILD)/hull) ./bench/run.sh
	HULL=$(abspath $(BUILD)/hull) ./bench/image.sh
	HULL=$(abspath $(BUILD)/hull) ./bench/vm.sh
	HULL=$(abspath $(BUILD)/hull) ./bench/clients.sh
	HULL=$(abspath $(BUILD)/hull) ./bench/net.sh

fuzz:
	./tests/fuzz/run.sh

install: $(BUILD)/hull $(BUILD)/hull-vmm $(BUILD)/hull-agent
	install -D -m 0755 $(BUILD)/hull $(DESTDIR)$(PREFIX)/bin/hull
	install -D -m 0755 $(BUILD)/hull-vmm $(DESTDIR)$(PREFIX)/bin/hull-vmm
	install -D -m 0755 $(BUILD)/hull-agent $(DESTDIR)$(PREFIX)/lib/hull/hull-agent
	ln -sf hull $(DESTDIR)$(PREFIX)/bin/hull-vm

clean:
	rm -rf build build-asan build-core

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
