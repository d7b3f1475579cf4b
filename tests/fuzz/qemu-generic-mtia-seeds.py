#!/usr/bin/env python3
"""Writes the seed inputs of QEMU's generic-fuzz over the mtia device.

    tests/fuzz/qemu-generic-mtia-seeds.py [DIR]        the committed seeds
                                                      (default tests/fuzz/corpus/qemu-generic-mtia)
    tests/fuzz/qemu-generic-mtia-seeds.py --fw-size N DIR
                                                      the seeds that boot the firmware image of N
                                                      bytes placed by x-fw-image (run-qemu-fuzz.sh
                                                      writes them at run time from the build)

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

# Fuzzed regions in address order, as libqos maps the BARs of the machine in
# run-qemu-fuzz.sh (two devices on bus 0: mtia0 with the MMU, mtia1 without).
REGION = {
    ("mtia0", "regs"): 0, ("mtia0", "devmem"): 1, ("mtia0", "msix-table"): 2, ("mtia0", "msix-pba"): 3,
    ("mtia1", "regs"): 4, ("mtia1", "devmem"): 5, ("mtia1", "msix-table"): 6, ("mtia1", "msix-pba"): 7,
}
PCI_DEV = {"mtia0": 0, "mtia1": 1}  # generic-fuzz's index into the fuzzed PCI devices

# mtia_spec.h
MAGIC, SCRATCH, RESET, IRQ_STATUS, IRQ_MASK, IRQ_TEST = 0x000, 0x040, 0x044, 0x050, 0x054, 0x058
ERR_STATUS, DEVMEM_ZERO = 0x060, 0x068
MMU_CTRL, MMU_CTX_TABLE_LO, MMU_CTX_TABLE_HI, MMU_CTX_COUNT, MMU_INVALIDATE = 0x070, 0x074, 0x078, 0x07C, 0x080
FW_STAGE_LO, FW_STAGE_HI, FW_STAGE_SIZE, FW_BOOT, FW_BOOT_STATUS = 0x100, 0x104, 0x108, 0x10C, 0x110
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


def rd(off, size=4, dev="mtia0", bar="regs"):
    return struct.pack("<BBBxI", OP_READ, SIZE[size], REGION[(dev, bar)], off)


def wr(off, val, size=4, dev="mtia0", bar="regs"):
    return struct.pack("<BBBxIQ", OP_WRITE, SIZE[size], REGION[(dev, bar)], off, val)


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


def fw_seeds(size):
    """Boot the image x-fw-image put at offset 0, then work for it."""
    boot = [wr(FW_STAGE_LO, 0), wr(FW_STAGE_HI, 0), wr(FW_STAGE_SIZE, size), wr(FW_BOOT, FW_BOOT_KEY)]
    boot1 = [wr(o, v, dev="mtia1") for o, v in ((FW_STAGE_LO, 0), (FW_STAGE_HI, 0), (FW_STAGE_SIZE, size),
                                                 (FW_BOOT, FW_BOOT_KEY))]
    cmds = {
        "copy": CMD_COPY,
        "fill": struct.pack("<BBHIQQQQQQQ", 2, 0, 8, 0, 256, 0xA5, 0, 0, ADDR_DEVMEM | 0x2000, 0, 0),
        "nop-fence": struct.pack("<BBHIQQQQQQQ", 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0) +
        struct.pack("<BBHIQQQQQQQ", 3, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0),
        "timestamp": struct.pack("<BBHIQQQQQQQ", 4, 0, 11, 0, 8, 0, 0, 0, 0x280000, 0, 0),
        "compute": struct.pack("<BBHIQQQQQQQ", 5, 0, 12, 0, 64, 4096, 0x300000, 0, ADDR_DEVMEM | 0x4000, 0, 0),
    }
    seeds = {"fw-boot-real": seed(*boot, rd(FW_BOOT_STATUS), rd(0x114), wr(RESET, RESET_KEY), *boot)}
    for name, cmd in cmds.items():
        seeds["fw-queue-" + name] = seed(*boot, *queue_setup(0), dma_pattern(cmd), wr(db(0, DB_SQ_TAIL), 2),
                                         rd(q(0, Q_STATUS)), wr(db(0, DB_CQ_HEAD), 1), wr(q(0, Q_CTRL), 0))
    seeds["fw-mailbox"] = seed(*boot, wr(MBOX_CMD, 1 | 7 << 16), wr(MBOX_DOORBELL, 1), rd(0x240), rd(0x244))
    seeds["fw-mmu"] = seed(*boot, wr(MMU_CTX_TABLE_LO, 0x300000), wr(MMU_CTX_COUNT, 2), wr(MMU_CTRL, 1),
                           *queue_setup(1), dma_pattern(CMD_COPY + struct.pack("<QQ", 0x300001, 0)),
                           wr(db(1, DB_SQ_TAIL), 3))
    seeds["fw-both"] = seed(*boot, *boot1, *queue_setup(2), *queue_setup(5, dev="mtia1"), dma_pattern(CMD_COPY),
                            wr(db(2, DB_SQ_TAIL), 1), wr(db(5, DB_SQ_TAIL), 1, dev="mtia1"))
    return seeds


def main():
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    args = sys.argv[1:]
    seeds = SEEDS
    if args[:1] == ["--fw-size"] and len(args) == 3:
        seeds = fw_seeds(int(args[1], 0))
        args = args[2:]
    out = args[0] if args else os.path.join(top, "tests/fuzz/corpus/qemu-generic-mtia")
    os.makedirs(out, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print("%d seeds in %s" % (len(seeds), out))


if __name__ == "__main__":
    main()
