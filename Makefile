# mtia-open top-level build. Build products go under build/ (git-ignored).
#   make setup   install Debian packages, fetch QEMU source + guest kernel
#   make         build QEMU with the mtia device, the driver, runtime, tools
#   make demo    boot a VM, show mtia-smi
#   make test    run every test suite (unit, qtest, in-VM)
#   make fuzz    every libFuzzer target, QEMU's generic-fuzz of the device,
#                the in-VM ioctl fuzzer, FUZZ_S seconds (default 600) each
#                (docs/reliability.md)
#   make conformance  ONNX's own backend tests on the device (libonnx-testdata;
#                docs/mtia-compile.md "ONNX conformance")
#   make test-loaded / test-slowed   make test on a deliberately loaded
#                (a busy loop per CPU) or slowed (half the CPU time) host
#   make soak [SOAK_S=seconds]  the soak (docs/reliability.md): checksummed
#                load, faults, unbind/rebind, reload; default one hour
#   make install install the SDK under PREFIX (/usr/local), honouring DESTDIR:
#                libmtia, headers, tools, firmware, udev rule, mtia.pc, CMake
#                package (docs/install.md); make uninstall removes it again
#   make deb     Debian packages of the built tree into build/deb, lintian
#                (docs/packaging.md)
#   make docs    API reference of the public headers (Doxygen, zero warnings)
#                into build/docs/html
#   make format  apply .clang-format to the C++ and qemu-device/core's C
#                (make test fails on any difference)
#   make clean   remove our build products (keeps fetched sources and QEMU)
#   make distclean  remove build/ entirely
TOP   := $(CURDIR)
BUILD := $(TOP)/build
JOBS  ?= $(shell nproc)

.PHONY: all setup qemu driver firmware userspace demo test test-loaded test-slowed conformance bench soak install uninstall \
	deb docs format clean distclean

all: qemu driver firmware userspace

setup:
	scripts/setup.sh

qemu:
	qemu-device/build-qemu.sh

driver:
	driver/build.sh

firmware:
	$(MAKE) -C firmware O=$(BUILD)/firmware

userspace:
	cmake -S $(TOP) -B $(BUILD)/cmake -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	ninja -C $(BUILD)/cmake -j$(JOBS)

# The demo VM's devices: two, with the properties shown by mtia-smi.
DEMO_DEVICES ?= --devices 1 --device-opts devmem-size=2G \
	--qemu-arg=-device --qemu-arg=pcie-root-port,id=rp-b,chassis=31,slot=31 \
	--qemu-arg=-device --qemu-arg=mtia,id=mtia-b,bus=rp-b,devmem-size=512M,pe-rows=4,pe-cols=16

# The demo's model: torchvision resnet18 (random weights) exported by
# PyTorch on the host and compiled by mtia-compile.
DEMO_MODEL := build/models/resnet18.mtia

demo: setup all
	@[ -f $(DEMO_MODEL) ] || { /usr/bin/python3 tests/models/make_models.py --out build/models --only resnet18 && \
		build/bin/mtia-compile build/models/resnet18.onnx -o $(DEMO_MODEL); }
	tools/mtia-vm run $(DEMO_DEVICES) -- scripts/demo.sh

test: setup all
	tests/run-all.sh

# Tests wait for states, never for a speed: these show it (tests/host-load.sh).
test-loaded test-slowed: test-%: setup all
	tests/host-load.sh $* tests/run-all.sh

conformance: setup all
	tests/conformance/run.sh

bench: setup all
	tests/bench/run-bench.sh

# The soak (tests/vm/soak.sh): load, faults, unbind/rebind for SOAK_S seconds.
SOAK_S ?= 3600
soak: setup all
	@[ -f build/models/mlp.mtia ] || tests/vm/test-models.sh --prepare
	tools/mtia-vm run --timeout $$(( $(SOAK_S) + 900 )) --devices 2 -- tests/vm/soak.sh $(SOAK_S)

PREFIX ?= /usr/local
install: firmware userspace
	cmake --install $(BUILD)/cmake --prefix $(PREFIX)

# Removes what the last `make install` wrote (CMake's install manifest).
uninstall:
	@[ -f $(BUILD)/cmake/install_manifest.txt ] || { echo "nothing installed from this tree"; exit 1; }
	xargs -d '\n' rm -f -- <$(BUILD)/cmake/install_manifest.txt
	rm -f $(BUILD)/cmake/install_manifest.txt

deb: firmware userspace
	scripts/build-deb.sh

format:
	tests/format-check.sh --fix

MTIA_VERSION := $(shell awk '/^project/ { print $$3 }' CMakeLists.txt)
docs:
	rm -rf $(BUILD)/docs && MTIA_VERSION=$(MTIA_VERSION) doxygen docs/Doxyfile

clean:
	rm -rf $(BUILD)/cmake $(BUILD)/bin $(BUILD)/lib $(BUILD)/driver $(BUILD)/firmware $(BUILD)/vm

distclean:
	rm -rf $(BUILD)

# Fuzzing, long (docs/reliability.md): every libFuzzer target, QEMU's
# generic-fuzz over the device (its own clang build of QEMU), then the ioctl
# fuzzer in a VM, FUZZ_S seconds each; make test runs the first and the
# last short.
FUZZ_S ?= 600
.PHONY: fuzz
fuzz: setup all
	tests/fuzz/run-fuzz.sh --seconds $(FUZZ_S)
	tests/fuzz/run-qemu-fuzz.sh --seconds $(FUZZ_S)
	@[ -f build/models/mlp.mtia ] || tests/vm/test-models.sh --prepare
	tools/mtia-vm run --timeout $$(( $(FUZZ_S) + 900 )) --devices 2 -- tests/vm/test-ioctl-fuzz.sh $(FUZZ_S)
