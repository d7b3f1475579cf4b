#!/usr/bin/env python3
"""Writes the seed inputs of QEMU's generic-fuzz over the mtia device.

    tests/fuzz/qemu-generic-mtia-seeds.py [DIR]        the committed seeds
                                                      (default tests/fuzz/corpus/qemu-generic-mtia)
    tests/fuzz/qemu-generic-mtia-seeds.py --fw-size N DIR
                                                      the seeds that boot the firmware image of N
                                                      bytes placed by x-fw-image (run-qemu-fuzz.sh
                                                      writes them at run time from the build)
    tests/fuzz/qemu-generic-mtia-seeds.py --regress [DIR]
                                                      the generated regression inputs
                                                      (default tests/fuzz/regress/qemu-generic-mtia)

A generic-fuzz input is a list of operations separated by "FUZZ"; the first
byte of each is the opcode (mod 10), the rest its arguments in the layout of
the structs in QEMU's tests/qtest/fuzz/generic_fuzz.c (x86-64 alignment).
An MMIO operation names a region by its index among the fuzzed regions in
address order (run-qemu-fuzz.sh's machine: see REGION below) and an offset
taken modulo the region's size. Each seed is one thing a driver does, with the
keys and register values that random bytes would take long to find; libFuzzer
mutates and splices them. Register offsets and keys are mtia_spec.h's.
"""
import os
import struct
import sys

SEP = b"FUZZ"
OP_READ, OP_WRITE, OP_PCI_READ, OP_PCI_WRITE, OP_ADD_DMA_PATTERN, OP_CLOCK_STEP = 2, 3, 4, 5, 7, 9
SIZE = {1: 0, 2: 1, 4: 2, 8: 3}   # generic-fuzz's Byte, Word, Long, Quad
PCI_SIZE = {1: 0, 2: 1, 4: 2}

# generic-fuzz finds the devices by walking QOM's tree, whose children sit in
# hash tables: with run-qemu-fuzz.sh's ids it finds mtia1 (no MMU) first,
# maps its BARs first (lower addresses) and numbers it first among the fuzzed
# PCI devices. An MMIO operation's region index counts the fuzzed regions in
# address order: each device's BAR0 (registers), BAR2 (device memory), then
# BAR4's MSI-X table and PBA. The reach check (qemu-generic-mtia-reach.py)
# reads MTIA_REG_CAPS through these indices and fails if the order changes.
DEV_ORDER = ("mtia1", "mtia0")
BARS = ("regs", "devmem", "msix-table", "msix-pba")
REGION = {(dev, bar): len(BARS) * i + j for i, dev in enumerate(DEV_ORDER) for j, bar in enumerate(BARS)}
PCI_DEV = {dev: i for i, dev in enumerate(DEV_ORDER)}  # generic-fuzz's index into the fuzzed PCI devices

# mtia_spec.h
MAGIC, CAPS, SCRATCH, RESET, IRQ_STATUS, IRQ_MASK, IRQ_TEST = 0x000, 0x028, 0x040, 0x044, 0x050, 0x054, 0x058
CAP_MMU = 1
ERR_STATUS, DEVMEM_ZERO = 0x060, 0x068
MMU_CTRL, MMU_CTX_TABLE_LO, MMU_CTX_TABLE_HI, MMU_CTX_COUNT, MMU_INVALIDATE = 0x070, 0x074, 0x078, 0x07C, 0x080
FW_STAGE_LO, FW_STAGE_HI, FW_STAGE_SIZE, FW_BOOT, FW_BOOT_STATUS, FW_STATUS = 0x100, 0x104, 0x108, 0x10C, 0x110, 0x114
BOOT_RUNNING, FW_STATUS_READY = 0x01, 2
MBOX_CMD, MBOX_DOORBELL = 0x200, 0x280
TEL_BASE, TEL_POWER_CAP = 0x300, 0x318
RESET_KEY, FW_BOOT_KEY, FW_MAGIC = 0x52535421, 0x544F4F42, 0x5746544D
Q_SQ_BASE_LO, Q_SQ_BASE_HI, Q_CQ_BASE_LO, Q_CQ_BASE_HI, Q_SIZE, Q_CTRL, Q_STATUS, Q_COALESCE = (
    0x00, 0x04, 0x08, 0x0C, 0x10, 0x14, 0x18, 0x1C)
DB_SQ_TAIL, DB_CQ_HEAD = 0, 4
PCI_COMMAND, PM_CTRL = 0x04, 0x60 + 4   # MTIA_PM_CAP_OFFSET + PCI_PM_CTRL


def q(n, r):
    return 0x800 + 0x40 * n + r


def db(n, r):
    return 0x10000 + 0x1000 * n + r


def q_size(sq_log2, cq_log2):
    return sq_log2 | cq_log2 << 8


def q_ctrl(enable, prio, vec):
    return enable | prio << 4 | vec << 8


# op_read's and op_write's arguments are struct {uint8_t size, base;
# uint32_t offset; uint64_t value;}: two bytes of padding before offset. An
# operation shorter than its struct does nothing.
def rd(off, size=4, dev="mtia0", bar="regs"):
    return struct.pack("<BBBxxI", OP_READ, SIZE[size], REGION[(dev, bar)], off)


def wr(off, val, size=4, dev="mtia0", bar="regs"):
    return struct.pack("<BBBxxIQ", OP_WRITE, SIZE[size], REGION[(dev, bar)], off, val)


def cfg_wr(off, val, size=2, dev="mtia0"):
    return struct.pack("<BBBBxI", OP_PCI_WRITE, PCI_SIZE[size], PCI_DEV[dev], off, val)


def cfg_rd(off, size=4, dev="mtia0"):
    return struct.pack("<BBBB", OP_PCI_READ, PCI_SIZE[size], PCI_DEV[dev], off)


def dma_pattern(data, index=0, stride=0):
    return struct.pack("<BBB", OP_ADD_DMA_PATTERN, index, stride) + data


def seed(*ops):
    return SEP.join(ops)


def queue_setup(n, dev="mtia0", sq=0x100000, cq=0x200000):
    return [wr(q(n, Q_SQ_BASE_LO), sq, dev=dev), wr(q(n, Q_SQ_BASE_HI), 0, dev=dev),
            wr(q(n, Q_CQ_BASE_LO), cq, dev=dev), wr(q(n, Q_CQ_BASE_HI), 0, dev=dev),
            wr(q(n, Q_SIZE), q_size(4, 4), dev=dev), wr(q(n, Q_COALESCE), 4 | 50 << 16, dev=dev),
            wr(q(n, Q_CTRL), q_ctrl(1, 1, n + 1), dev=dev)]


# A COPY command (struct mtia_cmd, 64 bytes) for the DMA pattern: what the
# rings hold once firmware fetches.
ADDR_DEVMEM = 1 << 63
CMD_COPY = struct.pack("<BBHIQQQQQQQ", 1, 0, 7, 0, 4096, 0, 0x300000, 0, ADDR_DEVMEM | 0x1000, 0, 0)

SEEDS = {
    "identity": seed(*[rd(o) for o in range(0, 0x2C, 4)], rd(MAGIC, dev="mtia1")),
    "scratch-irq": seed(wr(SCRATCH, 0xDEADBEEF), rd(SCRATCH), wr(IRQ_MASK, 0), wr(IRQ_TEST, 1),
                        rd(IRQ_STATUS), wr(IRQ_STATUS, 1), rd(ERR_STATUS)),
    "bad-access": seed(rd(SCRATCH, 1), wr(SCRATCH + 1, 5, 2), wr(MAGIC, 1), rd(0x2C), rd(ERR_STATUS),
                       wr(ERR_STATUS, 7), wr(RESET, 1), rd(db(0, 8)), wr(q(0, 0x28), 1)),
    "reset": seed(wr(SCRATCH, 1), wr(RESET, RESET_KEY), rd(SCRATCH), rd(0x4C)),
    "fw-boot": seed(wr(0, FW_MAGIC, bar="devmem"), wr(4, 1, bar="devmem"), wr(8, 80, bar="devmem"),
                    wr(FW_STAGE_LO, 0), wr(FW_STAGE_HI, 0), wr(FW_STAGE_SIZE, 0x1000),
                    wr(FW_BOOT, FW_BOOT_KEY), rd(FW_BOOT_STATUS), wr(FW_STAGE_SIZE, 0xFFFFFFFF),
                    wr(FW_BOOT, FW_BOOT_KEY), wr(FW_BOOT, 1)),
    "mailbox": seed(*[wr(MBOX_CMD + 4 * i, i * 0x01010101) for i in range(16)], wr(MBOX_DOORBELL, 1),
                    rd(MBOX_DOORBELL), rd(0x240)),
    "devmem": seed(wr(0x1000, 0x1122334455667788, 8, bar="devmem"), rd(0x1000, 8, bar="devmem"),
                   wr(DEVMEM_ZERO, 1 << 8 | 3), wr(DEVMEM_ZERO, 0xFFFFFF00), rd(0x1000, 4, bar="devmem")),
    "mmu": seed(wr(MMU_CTX_TABLE_LO, 0x300000), wr(MMU_CTX_TABLE_HI, 0), wr(MMU_CTX_COUNT, 4),
                wr(MMU_CTRL, 1), wr(MMU_INVALIDATE, 2), wr(MMU_INVALIDATE, 0xFFFFFFFF), wr(MMU_CTX_COUNT, 8),
                rd(MMU_CTRL), wr(MMU_CTRL, 1, dev="mtia1"), rd(0x28, dev="mtia1")),
    "queue": seed(*queue_setup(0), dma_pattern(CMD_COPY), wr(db(0, DB_SQ_TAIL), 3), rd(q(0, Q_STATUS)),
                  wr(db(0, DB_SQ_TAIL), 99), wr(db(0, DB_CQ_HEAD), 1), wr(q(0, Q_CTRL), 0),
                  wr(q(0, Q_SIZE), 0x1F1F)),
    "queues-both": seed(*queue_setup(3), *queue_setup(7, dev="mtia1"), wr(db(3, DB_SQ_TAIL), 1),
                        wr(db(7, DB_SQ_TAIL), 2, dev="mtia1"), wr(RESET, RESET_KEY),
                        wr(RESET, RESET_KEY, dev="mtia1")),
    "telemetry": seed(*[rd(TEL_BASE + o) for o in range(0, 0x50, 4)], wr(TEL_POWER_CAP, 1000),
                      wr(TEL_POWER_CAP, 0xFFFFFFFF)),
    "power": seed(cfg_wr(PM_CTRL, 3), rd(MAGIC), wr(SCRATCH, 1), cfg_wr(PM_CTRL, 0), rd(MAGIC),
                  cfg_wr(PCI_COMMAND, 0), rd(MAGIC), cfg_wr(PCI_COMMAND, 6)),
    "msix": seed(wr(0, 0x400000, 4, bar="msix-table"), wr(4, 0, 4, bar="msix-table"),
                 wr(8, 0x4D544941, 4, bar="msix-table"), wr(12, 0, 4, bar="msix-table"),
                 wr(IRQ_MASK, 0), wr(IRQ_TEST, 1), rd(0, 8, bar="msix-pba"), cfg_rd(0x40)),
}


def cmd(opcode, cid, length=0, value=0, src=0, dst=0):
    """A struct mtia_cmd (64 bytes), context 0, operands without offsets."""
    return struct.pack("<BBHIQQQQQQQ", opcode, 0, cid, 0, length, value, src, 0, dst, 0, 0)


def fw_boot(size, dev="mtia0"):
    """Boot the image x-fw-image put at offset 0, then read what shows it
    booted: CAPS names the device (the reach check's proof of REGION), then
    FW_BOOT_STATUS (RUNNING) and FW_STATUS (READY)."""
    return [wr(FW_STAGE_LO, 0, dev=dev), wr(FW_STAGE_HI, 0, dev=dev), wr(FW_STAGE_SIZE, size, dev=dev),
            wr(FW_BOOT, FW_BOOT_KEY, dev=dev), rd(CAPS, dev=dev), rd(FW_BOOT_STATUS, dev=dev),
            rd(FW_STATUS, dev=dev)]


# The queue seeds' commands: the DMA patterns generic-fuzz fills the device's
# reads with, in the order it reads (each read takes the next pattern: the
# SQE fetches, then a command's own reads), how many the doorbell submits and
# the CQE status each completes with (mtia_cqe_status_name()).
FW_CMDS = {
    "copy": ([cmd(1, 7, 4096, src=0x300000, dst=ADDR_DEVMEM | 0x1000)], 2, "OK"),
    "fill": ([cmd(2, 8, 256, 0xA5, dst=ADDR_DEVMEM | 0x2000)], 2, "OK"),
    "nop-fence": ([cmd(0, 9), cmd(3, 10)], 2, "OK"),
    "timestamp": ([cmd(4, 11, 8, dst=0x280000)], 2, "OK"),
    # One op of zeros: the device copies the program and refuses op 0.
    "compute": ([cmd(5, 12, 256, 4096, src=0x300000, dst=ADDR_DEVMEM | 0x4000), bytes(256)], 1, "BAD_PROGRAM"),
}


def fw_seeds(size):
    """The seeds that boot the firmware and give it work, and what each must
    show when replayed (qemu-generic-mtia-reach.py): "boot", the devices it
    boots in order; "cqe", {queue: (device, CQEs, status)}."""
    seeds, expect = {}, {}
    seeds["fw-boot-real"] = seed(*fw_boot(size), rd(0x118), wr(RESET, RESET_KEY), *fw_boot(size))
    expect["fw-boot-real"] = {"boot": ["mtia0", "mtia0"]}
    for dev, n, suffix in (("mtia0", 0, ""), ("mtia1", 4, "-mmu-off")):
        for name, (patterns, count, status) in FW_CMDS.items():
            seeds["fw-queue-" + name + suffix] = seed(
                *fw_boot(size, dev), *queue_setup(n, dev), *[dma_pattern(p) for p in patterns],
                wr(db(n, DB_SQ_TAIL), count, dev=dev), rd(q(n, Q_STATUS), dev=dev),
                wr(db(n, DB_CQ_HEAD), 1, dev=dev), wr(q(n, Q_CTRL), 0, dev=dev))
            expect["fw-queue-" + name + suffix] = {"boot": [dev], "cqe": {n: (dev, count, status)}}
    seeds["fw-mailbox"] = seed(*fw_boot(size), wr(MBOX_CMD, 1 | 7 << 16), wr(MBOX_DOORBELL, 1), rd(0x240),
                               rd(0x244))
    expect["fw-mailbox"] = {"boot": ["mtia0"]}
    # The MMU on with a context table the DMA pattern fills: the walk reads
    # entries that do not grant the access, so each COPY fails in translation.
    seeds["fw-mmu"] = seed(*fw_boot(size), wr(MMU_CTX_TABLE_LO, 0x300000), wr(MMU_CTX_COUNT, 2), wr(MMU_CTRL, 1),
                           *queue_setup(1), dma_pattern(CMD_COPY + struct.pack("<QQ", 0x300001, 0)),
                           wr(db(1, DB_SQ_TAIL), 3))
    expect["fw-mmu"] = {"boot": ["mtia0"], "cqe": {1: ("mtia0", 3, "TRANSLATION_FAULT")}}
    seeds["fw-both"] = seed(*fw_boot(size), *fw_boot(size, "mtia1"), *queue_setup(2),
                            *queue_setup(5, "mtia1", sq=0x140000, cq=0x240000), dma_pattern(CMD_COPY),
                            wr(db(2, DB_SQ_TAIL), 1), wr(db(5, DB_SQ_TAIL), 1, dev="mtia1"))
    expect["fw-both"] = {"boot": ["mtia0", "mtia1"], "cqe": {2: ("mtia0", 1, "OK"), 5: ("mtia1", 1, "OK")}}
    return seeds, expect


def regress_inputs():
    """Inputs of bugs fixed (tests/fuzz/regress/qemu-generic-mtia/, replayed
    by every run); each boots with a stage size well above the image's, so
    they keep booting as the firmware grows."""
    big_copy = cmd(1, 7, 0x10000, src=0x300000, dst=ADDR_DEVMEM | 0x100000)
    race = fw_boot(1 << 20)
    for n in range(4):
        race += queue_setup(n, sq=0x100000 + n * 0x1000, cq=0x200000 + n * 0x1000)
    race.append(dma_pattern(big_copy))
    race += [wr(db(n, DB_SQ_TAIL), 15) for n in range(4)]
    # Firmware fetching SQEs while engine workers read 64 KiB COPY sources:
    # two DMA reads at once in generic-fuzz's unlocked fill callback (ASan:
    # double free), about one replay in six before the glue serialized them.
    return {"dma-fill-race-4queues": seed(*race)}


def main():
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    args = sys.argv[1:]
    seeds = SEEDS
    default = "tests/fuzz/corpus/qemu-generic-mtia"
    if args[:1] == ["--fw-size"] and len(args) == 3:
        seeds = fw_seeds(int(args[1], 0))[0]
        args = args[2:]
    elif args[:1] == ["--regress"]:
        seeds, default = regress_inputs(), "tests/fuzz/regress/qemu-generic-mtia"
        args = args[1:]
    out = args[0] if args else os.path.join(top, default)
    os.makedirs(out, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print("%d seeds in %s" % (len(seeds), out))


if __name__ == "__main__":
    main()
