/*
 * mtia-open: an emulated MTIA-class inference accelerator (PCIe endpoint).
 *
 * This file is only the QEMU glue. Register behaviour lives in the C++ core
 * (hw/misc/mtia/, qemu-device/core/ in the mtia-open tree) behind the C ABI
 * in mtia_core.h; PCI identity and the register map come from mtia_spec.h.
 *
 *   BAR0  MTIA_BAR0_SIZE of registers, every access forwarded to the core
 *   BAR2  64-bit prefetchable device memory, RAM backed, "devmem-size" bytes:
 *         a ROM device in ROMD mode, so guest reads go straight to the RAM
 *         and guest stores trap to mtia_devmem_write, which stores through
 *         the core (mtia_core_devmem_write) so it knows which pages changed
 *         (docs/device-spec.md, "Device memory writes")
 *   BAR4  MSI-X table and PBA, "msix-vectors" vectors
 *
 * PCI capabilities: power management (D0 and D3hot; No_Soft_Reset is clear,
 * so entering D3hot resets the device's logic like a power-down of all but
 * device memory, which keeps its contents, and BAR0 then reads all-ones as a
 * function that no longer decodes memory space), PCI Express (a 16 GT/s x8
 * link) and AER (so QEMU's pcie_aer_inject_error reaches the guest's AER
 * driver through the root port above the device).
 *
 * The core runs the control core's firmware on a thread of its own. That
 * thread may ask for an interrupt without the BQL: mtia_raise_irq() then
 * only records the vector in an atomic mask and queues work on a vCPU
 * (async_run_on_cpu), which sends the MSI-X message from that vCPU's thread
 * under the BQL; without vCPUs (or with x-fork-safe, for QEMU's fuzzer), a
 * bottom half (guarded by the device's mem_reentrancy_guard) does it from
 * the main loop. The core's threads never
 * take the BQL themselves: a vCPU holding it may be joining them (reset). From
 * a thread that holds the BQL (vCPU MMIO, reset) the message is sent directly. The core thread is parked
 * while the VM is stopped (a VM change-state handler), so migration saves a
 * quiescent control core (its SRAM, registers and CSRs are in the vmstate).
 *
 * The hardware queues' data engine (docs/queues.md) runs worker threads in
 * the core that reach guest memory through mtia_dma_read/write, i.e.
 * pci_dma_read/pci_dma_write on the bus-master address space (so bus
 * mastering off, or an unmapped address, fails the command with DMA_ERROR).
 * Those threads never take the BQL: a DMA target that is not RAM (MMIO,
 * including peer BARs) is refused up front, since dispatching MMIO would need
 * the BQL, and a vCPU holding it may be waiting for the engine (reset, queue
 * disable, VM stop all wait for the workers). Their completion interrupts
 * take the queued-work path above. Doorbells are pages 0x10000.. in BAR0.
 *
 * Firmware signing (docs/firmware.md, "Signing"): the boot ROM in the core
 * verifies images against the Ed25519 key of the fw-pubkey property (64 hex
 * digits, checked at realize; default: the project's development key). A
 * refused image is a guest error naming the refusal, which the mtia_guest_error
 * trace event carries too.
 *
 * Fault injection (docs/fault-injection.md): the fault-* properties are
 * added with object_class_property_add, not DEFINE_PROP, so that qom-set
 * (QMP or HMP) works while the device runs; each arms the core's injector
 * (mtia_core_fault_set). Reading one returns what is still armed;
 * fault-*-injected counts how often that fault took effect. While
 * fault-link-down is on, BAR2 leaves ROMD mode so its reads come here too
 * and return all-ones like BAR0's.
 *
 * The board's infoROM (docs/telemetry.md, "Aggregate ECC counts"): with
 * inforom=PATH the lifetime ECC counts are loaded from that host file at
 * realize (a missing file starts at 0; an unreadable, truncated or corrupt
 * one fails realize with its reason) and the core writes it back, atomically,
 * whenever they change. Without it they start at 0 at every power-on.
 *
 * SPDX-License-Identifier: MIT
 */

#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qemu/lockable.h"
#include "qemu/log.h"
#include "qemu/atomic.h"
#include "qemu/host-utils.h"
#include "qemu/main-loop.h"
#include "qemu/module.h"
#include "qemu/units.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "hw/pci/pci.h"
#include "hw/pci/pcie.h"
#include "hw/pci/msix.h"
#include "exec/memory.h"
#include "qemu/rcu.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"
#include "qom/object.h"
#include "sysemu/runstate.h"
#include "hw/core/cpu.h"
#include "trace.h"

#include "mtia/mtia_core.h"
#include "mtia/mtia_spec.h"

#define TYPE_MTIA "mtia"
OBJECT_DECLARE_SIMPLE_TYPE(MtiaState, MTIA)

#define MTIA_PM_CAP_OFFSET   0x60
#define MTIA_PCIE_CAP_OFFSET 0x80
#define MTIA_AER_OFFSET      0x100

struct MtiaState {
    PCIDevice parent_obj;

    MemoryRegion regs;
    MemoryRegion devmem;

    struct mtia_core *core;
    /* MSI-X vectors asked for by the core's threads, sent by mtia_irq_work
     * on a vCPU thread (or irq_bh where there is no vCPU). */
    uint32_t irq_pending;
    uint32_t irq_work_queued;
    QEMUBH *irq_bh;
    VMChangeStateEntry *vm_state;
    /* Core state as migrated: filled in pre_save, applied in post_load. */
    struct mtia_core_snapshot snap;

    /* Properties */
    uint64_t devmem_size;
    uint64_t sram_size;
    uint32_t pe_rows;
    uint32_t pe_cols;
    uint32_t msix_vectors;
    uint32_t revision;
    uint64_t serial;
    bool mmu;
    /* fw-pubkey: the firmware signing key the boot ROM trusts, 64 hex
     * digits; NULL: the project's development key (docs/firmware.md). */
    char *fw_pubkey;
    /* For QEMU's fuzzer (tests/fuzz/run-qemu-fuzz.sh); see the properties. */
    bool fork_safe;
    uint32_t settle_us;
    char *fw_image;
    char *inforom;

    /* PCI power state last written to PMCSR (0 = D0, 3 = D3hot). */
    uint8_t power_state;
};


/* ---- callbacks from the core ------------------------------------------- */

/* BQL held. */
static void mtia_notify(MtiaState *s, unsigned vector)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    bool deliver = vector < s->msix_vectors && msix_enabled(pdev);

    trace_mtia_irq(vector, deliver);
    if (deliver) {
        msix_notify(pdev, vector);
    }
}

static void mtia_send_pending(MtiaState *s)
{
    uint32_t pending = qatomic_xchg(&s->irq_pending, 0);

    while (pending) {
        unsigned vector = ctz32(pending);

        pending &= pending - 1;
        mtia_notify(s, vector);
    }
}

static void mtia_irq_bh(void *opaque)
{
    mtia_send_pending(opaque);
}

/* On a vCPU thread, BQL held. Clears the flag before taking the vectors, so a
 * raise after that queues the work again. */
static void mtia_irq_work(CPUState *cpu, run_on_cpu_data data)
{
    MtiaState *s = data.host_ptr;

    qatomic_mb_set(&s->irq_work_queued, 0);
    mtia_send_pending(s);
}

/*
 * Any thread: vCPUs and reset (BQL held) or the core's threads (not). From
 * those the message is sent by work queued on a vCPU, not by a bottom half:
 * that wakes the thread which is to take the interrupt anyway, where a
 * bottom half would wake the main loop first and it then the vCPU, one
 * thread hop more on every completion.
 */
static void mtia_raise_irq(void *opaque, unsigned vector)
{
    MtiaState *s = opaque;

    if (vector >= 32) {
        return;
    }
    if (qemu_mutex_iothread_locked()) {
        mtia_notify(s, vector);
        return;
    }
    qatomic_or(&s->irq_pending, 1u << vector);
    if (!first_cpu || s->fork_safe) {
        qemu_bh_schedule(s->irq_bh);
    } else if (!qatomic_xchg(&s->irq_work_queued, 1)) {
        async_run_on_cpu(first_cpu, mtia_irq_work, RUN_ON_CPU_HOST_PTR(s));
    }
}

static void mtia_irq_flush(CPUState *cpu, run_on_cpu_data data)
{
}

static void mtia_guest_error(void *opaque, const char *msg)
{
    trace_mtia_guest_error(msg);
    qemu_log_mask(LOG_GUEST_ERROR, "%s\n", msg);
}

/*
 * True if [addr, addr + len) of the bus-master address space is all RAM (and
 * writable for a write). Anything else would be dispatched as MMIO, which
 * needs the BQL: refused, see the top of the file. The memory map can change
 * between this check and the access only by a guest remapping memory under
 * its own DMA, which is the guest's problem as on hardware.
 */
static bool mtia_dma_ram(MtiaState *s, uint64_t addr, uint64_t len,
                         bool is_write)
{
    AddressSpace *as = pci_get_address_space(PCI_DEVICE(s));

    if (len && addr + len - 1 < addr) {
        return false;
    }
    RCU_READ_LOCK_GUARD();
    while (len) {
        hwaddr xlat, l = len;
        MemoryRegion *mr = address_space_translate(as, addr, &xlat, &l, is_write,
                                                   MEMTXATTRS_UNSPECIFIED);

        /* A peer's device memory (ROMD) may be read; writing it would need
         * its write callback, i.e. MMIO. */
        bool ram = memory_region_is_ram(mr) ||
                   (!is_write && memory_region_is_romd(mr));

        if (!ram || memory_region_is_ram_device(mr) ||
            (is_write && mr->readonly) || l == 0) {
            return false;
        }
        addr += l;
        len -= l;
    }
    return true;
}

#ifdef CONFIG_FUZZ
/*
 * The fuzz build only (qemu-device/build-qemu-fuzz.sh). QEMU's generic-fuzz
 * fills every DMA read of guest RAM from its patterns in a callback
 * (fuzz_dma_read_cb) whose state is global and unlocked, while this device
 * reads guest memory from several threads at once: the control core fetching
 * SQEs, engine workers running commands, those of both devices. Two such
 * reads at once corrupted the callback's array (ASan: double free in its
 * g_array_append_val), so in this build they take turns.
 * Protects generic-fuzz's DMA-fill state (its dma_regions, dma_patterns).
 */
static QemuMutex mtia_fuzz_dma_lock;
#endif

/* Any thread, BQL or not (engine workers, the control core, vCPUs). */
static int mtia_dma_read(void *opaque, uint64_t addr, void *buf, uint64_t len)
{
    MtiaState *s = opaque;

    if (!mtia_dma_ram(s, addr, len, false)) {
        return -1;
    }
#ifdef CONFIG_FUZZ
    QEMU_LOCK_GUARD(&mtia_fuzz_dma_lock);
#endif
    return pci_dma_read(PCI_DEVICE(s), addr, buf, len) == MEMTX_OK ? 0 : -1;
}

static int mtia_dma_write(void *opaque, uint64_t addr, const void *buf,
                          uint64_t len)
{
    MtiaState *s = opaque;

    if (!mtia_dma_ram(s, addr, len, true)) {
        return -1;
    }
    return pci_dma_write(PCI_DEVICE(s), addr, buf, len) == MEMTX_OK ? 0 : -1;
}

/*
 * The core's trace hook (mtia_core_set_trace()): a command's path through
 * the queues (doorbell, SQE fetch, dispatch, CQE) as trace_mtia_* events
 * (-trace 'mtia_*'), and every failed command also as a guest error
 * (-d guest_errors): the guest sent a command the device refused or could
 * not carry out. Any thread, no BQL
 * (vCPUs, the control core, engine workers); both only take QEMU's log lock.
 */
static void mtia_trace(void *opaque, const struct mtia_core_trace_event *ev)
{
    switch (ev->kind) {
    case MTIA_CORE_TRACE_DOORBELL_SQ:
        trace_mtia_doorbell(ev->queue, "SQ_TAIL", ev->value);
        break;
    case MTIA_CORE_TRACE_DOORBELL_CQ:
        trace_mtia_doorbell(ev->queue, "CQ_HEAD", ev->value);
        break;
    case MTIA_CORE_TRACE_FETCH:
        trace_mtia_sqe_fetch(ev->queue, ev->slot, ev->cid,
                             mtia_core_opcode_name(ev->opcode), ev->opcode);
        break;
    case MTIA_CORE_TRACE_DISPATCH:
        trace_mtia_dispatch(ev->queue, ev->cid,
                            mtia_core_opcode_name(ev->opcode), ev->opcode);
        break;
    case MTIA_CORE_TRACE_CQE:
        trace_mtia_cqe_posted(ev->queue, ev->slot, ev->cid,
                              mtia_cqe_status_name(ev->status),
                              ev->status, ev->value);
        break;
    case MTIA_CORE_TRACE_MMU_FAULT:
        trace_mtia_mmu_fault(ev->queue, ev->cid,
                             mtia_core_opcode_name(ev->opcode), ev->ctx,
                             ev->value, mtia_mmu_fault_reason(ev->info),
                             !!(ev->info & MTIA_MMU_FAULT_WRITE));
        qemu_log_mask(LOG_GUEST_ERROR,
                      "mtia: queue %u: command cid %u: context %u %s of VA "
                      "0x%" PRIx64 " does not translate (reason %u)\n",
                      ev->queue, ev->cid, ev->ctx,
                      ev->info & MTIA_MMU_FAULT_WRITE ? "write" : "read",
                      ev->value, mtia_mmu_fault_reason(ev->info));
        break;
    case MTIA_CORE_TRACE_CMD_ERROR:
        trace_mtia_cmd_error(ev->queue, ev->cid,
                             mtia_core_opcode_name(ev->opcode), ev->opcode,
                             mtia_cqe_status_name(ev->status), ev->status,
                             mtia_core_trace_source_name(ev->source),
                             ev->value);
        if (ev->source == MTIA_CORE_TRACE_BY_RING) {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "mtia: queue %u: ring access failed at slot %u "
                          "(%s): queue stopped\n", ev->queue, ev->slot,
                          mtia_cqe_status_name(ev->status));
        } else {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "mtia: queue %u: command cid %u %s (0x%x) failed: "
                          "%s, found by %s\n", ev->queue, ev->cid,
                          mtia_core_opcode_name(ev->opcode), ev->opcode,
                          mtia_cqe_status_name(ev->status),
                          mtia_core_trace_source_name(ev->source));
        }
        break;
    case MTIA_CORE_TRACE_FAULT:
        trace_mtia_fault_injected(mtia_core_fault_name(ev->source),
                                  (int)ev->queue, ev->cid, ev->value);
        break;
    }
}

static const struct mtia_core_host_ops mtia_host_ops = {
    .raise_irq = mtia_raise_irq,
    .guest_error = mtia_guest_error,
    .dma_read = mtia_dma_read,
    .dma_write = mtia_dma_write,
};

/* ---- BAR0 -------------------------------------------------------------- */

static uint64_t mtia_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    MtiaState *s = opaque;
    uint64_t val;

    if (s->power_state != 0) {   /* no memory decode outside D0 */
        qemu_log_mask(LOG_GUEST_ERROR, "mtia: BAR0 read at 0x%" HWADDR_PRIx
                      " in D%u\n", addr, s->power_state);
        return MAKE_64BIT_MASK(0, size * 8);
    }
    val = mtia_core_mmio_read(s->core, addr, size);

    trace_mtia_mmio_read(addr, size, val);
    return val;
}

static void mtia_mmio_write(void *opaque, hwaddr addr, uint64_t val,
                            unsigned size)
{
    MtiaState *s = opaque;

    trace_mtia_mmio_write(addr, size, val);
    if (s->power_state != 0) {
        qemu_log_mask(LOG_GUEST_ERROR, "mtia: BAR0 write at 0x%" HWADDR_PRIx
                      " in D%u dropped\n", addr, s->power_state);
        return;
    }
    mtia_core_mmio_write(s->core, addr, val, size);
    if (s->settle_us) {
        mtia_core_wait_idle(s->core, s->settle_us);
    }
}

/* Every size reaches the core unchanged: it decides what is a bad access. */
static const MemoryRegionOps mtia_mmio_ops = {
    .read = mtia_mmio_read,
    .write = mtia_mmio_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 1,
        .max_access_size = 8,
    },
    .impl = {
        .min_access_size = 1,
        .max_access_size = 8,
    },
};

/* ---- BAR2: device memory ------------------------------------------------ */

/*
 * Guest stores to device memory (and anyone else's writes through the
 * memory API, e.g. qtest) land here: the core stores them and marks the
 * page written, so data it derived from the old bytes is not reused; QEMU's
 * dirty log learns of them here too, for migration. Reads never get here
 * while the region is in ROMD mode (always, but for fault-link-down): they
 * read the RAM directly.
 */
static void mtia_devmem_write(void *opaque, hwaddr addr, uint64_t val,
                              unsigned size)
{
    MtiaState *s = opaque;

    if (mtia_core_fault_get(s->core, MTIA_CORE_FAULT_LINK_DOWN)) {
        return;   /* posted into a dead link */
    }
    mtia_core_devmem_write(s->core, addr, val, size);
    memory_region_set_dirty(&s->devmem, addr, size);
}

static uint64_t mtia_devmem_read(void *opaque, hwaddr addr, unsigned size)
{
    MtiaState *s = opaque;
    const uint8_t *p = memory_region_get_ram_ptr(&s->devmem);
    uint64_t v = 0;

    if (mtia_core_fault_get(s->core, MTIA_CORE_FAULT_LINK_DOWN)) {
        return size >= 8 ? UINT64_MAX : (1ull << (8 * size)) - 1;
    }
    if (addr >= s->devmem_size || size > s->devmem_size - addr) {
        return 0;
    }
    while (size--) {
        v = v << 8 | p[addr + size];
    }
    return v;
}

static const MemoryRegionOps mtia_devmem_ops = {
    .read = mtia_devmem_read,
    .write = mtia_devmem_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 1,
        .max_access_size = 8,
        .unaligned = true,
    },
    .impl = {
        .min_access_size = 1,
        .max_access_size = 8,
        .unaligned = true,
    },
};

/* ---- VM run state -------------------------------------------------------- */

/*
 * The control core runs only while the VM does, and a VM stop lets the data
 * engine finish what was dispatched. Whatever the firmware or the engine
 * wrote to device memory since the last stop bypassed QEMU's dirty
 * tracking: mark device memory dirty so a migration resends it. (Guest
 * stores through BAR2 are logged one by one in mtia_devmem_write.)
 */
static void mtia_vm_state_change(void *opaque, bool running, RunState state)
{
    MtiaState *s = opaque;

    if (mtia_core_set_vm_running(s->core, running) && !running) {
        memory_region_set_dirty(&s->devmem, 0, s->devmem_size);
    }
}

/* ---- PCIe -------------------------------------------------------------- */

/* Advertise (and report as trained) a 16 GT/s x8 link, like the real card. */
static void mtia_pcie_link_init(PCIDevice *pdev)
{
    uint8_t *exp_cap = pdev->config + pdev->exp.exp_cap;

    pci_long_test_and_clear_mask(exp_cap + PCI_EXP_LNKCAP,
                                 PCI_EXP_LNKCAP_MLW | PCI_EXP_LNKCAP_SLS);
    pci_long_test_and_set_mask(exp_cap + PCI_EXP_LNKCAP,
                               QEMU_PCI_EXP_LNKCAP_MLW(QEMU_PCI_EXP_LNK_X8) |
                               QEMU_PCI_EXP_LNKCAP_MLS(QEMU_PCI_EXP_LNK_16GT));
    pci_set_long(exp_cap + PCI_EXP_LNKCAP2,
                 PCI_EXP_LNKCAP2_SLS_2_5GB | PCI_EXP_LNKCAP2_SLS_5_0GB |
                 PCI_EXP_LNKCAP2_SLS_8_0GB | PCI_EXP_LNKCAP2_SLS_16_0GB);
    pci_word_test_and_clear_mask(exp_cap + PCI_EXP_LNKSTA,
                                 PCI_EXP_LNKSTA_CLS | PCI_EXP_LNKSTA_NLW);
    pci_word_test_and_set_mask(exp_cap + PCI_EXP_LNKSTA,
                               QEMU_PCI_EXP_LNKSTA_NLW(QEMU_PCI_EXP_LNK_X8) |
                               QEMU_PCI_EXP_LNKSTA_CLS(QEMU_PCI_EXP_LNK_16GT));
}

/* ---- power management ------------------------------------------------- */

/* D0 and D3hot only; software may set PMCSR's power state field. */
static void mtia_pm_cap_init(PCIDevice *pdev, Error **errp)
{
    if (pci_add_capability(pdev, PCI_CAP_ID_PM, MTIA_PM_CAP_OFFSET,
                           PCI_PM_SIZEOF, errp) < 0) {
        return;
    }
    pci_set_word(pdev->config + MTIA_PM_CAP_OFFSET + PCI_PM_PMC,
                 PCI_PM_CAP_VER_1_2);
    pci_set_word(pdev->wmask + MTIA_PM_CAP_OFFSET + PCI_PM_CTRL,
                 PCI_PM_CTRL_STATE_MASK);
}

/*
 * A PMCSR write that changes the power state: D3hot powers the logic down
 * (the core is reset: control core stopped, queues and registers at their
 * reset values, device memory kept), so the driver must boot the firmware
 * again after D0. Power states 1 and 2 are not supported: they read back
 * as written but act as D0.
 */
static void mtia_write_config(PCIDevice *pdev, uint32_t addr, uint32_t val,
                              int len)
{
    MtiaState *s = MTIA(pdev);
    uint8_t *pmcsr = pdev->config + MTIA_PM_CAP_OFFSET + PCI_PM_CTRL;
    uint8_t state;

    pci_default_write_config(pdev, addr, val, len);
    state = pci_get_word(pmcsr) & PCI_PM_CTRL_STATE_MASK;
    state = state == 3 ? 3 : 0;
    if (state == s->power_state) {
        return;
    }
    trace_mtia_power_state(s->power_state, state);
    if (state == 3) {
        mtia_core_reset(s->core);
        qatomic_set(&s->irq_pending, 0);
    }
    s->power_state = state;
}

/*
 * MTIA_REG_TEL_SERIAL_*: the "serial" property, or when it is 0 a value
 * derived from where the device sits: "MTIA" in the high half, an FNV-1a
 * hash of the parent bus's name and the slot/function in the low half, so it
 * is stable across boots of the same configuration (docs/telemetry.md).
 */
static uint64_t mtia_serial(MtiaState *s)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    const char *bus = qdev_get_parent_bus(DEVICE(s))->name;
    uint32_t h = 2166136261u;

    if (s->serial) {
        return s->serial;
    }
    for (; bus && *bus; bus++) {
        h = (h ^ (uint8_t)*bus) * 16777619u;
    }
    h = (h ^ pdev->devfn) * 16777619u;
    return (uint64_t)MTIA_MAGIC_VALUE << 32 | h;
}

/* x-fw-image: the file's bytes at device memory offset 0, as if staged. */
static bool mtia_preload(MtiaState *s, Error **errp)
{
    g_autofree char *buf = NULL;
    g_autoptr(GError) gerr = NULL;
    gsize len;

    if (!g_file_get_contents(s->fw_image, &buf, &len, &gerr)) {
        error_setg(errp, "x-fw-image: %s", gerr->message);
        return false;
    }
    if (len > s->devmem_size) {
        error_setg(errp, "x-fw-image: %s (%zu bytes) does not fit in "
                   "devmem-size", s->fw_image, (size_t)len);
        return false;
    }
    memcpy(memory_region_get_ram_ptr(&s->devmem), buf, len);
    return true;
}

static void mtia_realize(PCIDevice *pdev, Error **errp)
{
    ERRP_GUARD();
    MtiaState *s = MTIA(pdev);
    struct mtia_core_config cfg;
    char why[256];
    unsigned i;

    mtia_core_config_default(&cfg);
    cfg.pe_rows = s->pe_rows;
    cfg.pe_cols = s->pe_cols;
    cfg.sram_bytes = s->sram_size;
    cfg.devmem_bytes = s->devmem_size;
    cfg.msix_vectors = s->msix_vectors;
    cfg.revision = s->revision;
    cfg.serial = mtia_serial(s);
    cfg.mmu = s->mmu;
    if (s->fw_pubkey &&
        mtia_core_parse_fw_pubkey(s->fw_pubkey, cfg.fw_pubkey, why, sizeof(why)) != 0) {
        error_setg(errp, "%s", why);
        return;
    }
    cfg.defer_threads = s->fork_safe;
    if (mtia_core_config_validate(&cfg, why, sizeof(why)) != 0) {
        error_setg(errp, "%s", why);
        return;
    }

    s->core = mtia_core_new(&cfg, &mtia_host_ops, s);
    if (!s->core) {
        error_setg(errp, "mtia: could not create the device core");
        return;
    }
    mtia_core_set_trace(s->core, mtia_trace, s);
    if (s->inforom && *s->inforom &&
        mtia_core_open_inforom(s->core, s->inforom, why, sizeof(why)) != 0) {
        error_setg(errp, "%s", why);
        goto fail_core;
    }

    pci_config_set_revision(pdev->config, s->revision);

    if (pcie_endpoint_cap_init(pdev, MTIA_PCIE_CAP_OFFSET) < 0) {
        error_setg(errp, "mtia: could not add the PCI Express capability");
        goto fail_core;
    }
    mtia_pcie_link_init(pdev);
    pcie_cap_deverr_init(pdev);
    mtia_pm_cap_init(pdev, errp);
    if (*errp) {
        goto fail_pcie;
    }
    if (pcie_aer_init(pdev, PCI_ERR_VER, MTIA_AER_OFFSET, PCI_ERR_SIZEOF,
                      errp) < 0) {
        goto fail_pcie;
    }

    memory_region_init_io(&s->regs, OBJECT(s), &mtia_mmio_ops, s,
                          "mtia-regs", MTIA_BAR0_SIZE);
    pci_register_bar(pdev, MTIA_BAR_REGS, PCI_BASE_ADDRESS_SPACE_MEMORY,
                     &s->regs);

    memory_region_init_rom_device(&s->devmem, OBJECT(s), &mtia_devmem_ops, s,
                                  "mtia-devmem", s->devmem_size, errp);
    if (*errp) {
        goto fail_pcie;
    }
    pci_register_bar(pdev, MTIA_BAR_DEVMEM,
                     PCI_BASE_ADDRESS_SPACE_MEMORY |
                     PCI_BASE_ADDRESS_MEM_TYPE_64 |
                     PCI_BASE_ADDRESS_MEM_PREFETCH,
                     &s->devmem);

    if (s->fw_image && !mtia_preload(s, errp)) {
        goto fail_pcie;
    }
    if (msix_init_exclusive_bar(pdev, s->msix_vectors, MTIA_BAR_MSIX, errp)) {
        goto fail_pcie;
    }
    for (i = 0; i < s->msix_vectors; i++) {
        msix_vector_use(pdev, i);
    }

    /* BAR2's RAM is what the boot ROM reads and the control core maps. */
    mtia_core_attach_devmem(s->core, memory_region_get_ram_ptr(&s->devmem),
                            s->devmem_size);
    s->irq_bh = qemu_bh_new_guarded(mtia_irq_bh, s,
                                    &DEVICE(s)->mem_reentrancy_guard);
    s->vm_state = qemu_add_vm_change_state_handler(mtia_vm_state_change, s);
    mtia_core_set_vm_running(s->core, runstate_is_running());
    return;

fail_pcie:
    pcie_aer_exit(pdev);
    pcie_cap_exit(pdev);
fail_core:
    mtia_core_free(s->core);
    s->core = NULL;
}

static void mtia_exit(PCIDevice *pdev)
{
    MtiaState *s = MTIA(pdev);

    /* First the core (joins its threads: no more raise_irq), then work
     * still queued on a vCPU (it runs before run_on_cpu's), then the BH. */
    qemu_del_vm_change_state_handler(s->vm_state);
    mtia_core_free(s->core);
    s->core = NULL;
    if (qatomic_read(&s->irq_work_queued)) {
        run_on_cpu(first_cpu, mtia_irq_flush, RUN_ON_CPU_NULL);
    }
    qemu_bh_delete(s->irq_bh);
    s->irq_bh = NULL;
    msix_unuse_all_vectors(pdev);
    msix_uninit_exclusive_bar(pdev);
    pcie_aer_exit(pdev);
    pcie_cap_exit(pdev);
}

static void mtia_qdev_reset(DeviceState *dev)
{
    MtiaState *s = MTIA(dev);

    trace_mtia_reset();
    mtia_core_reset(s->core);   /* stops the control core */
    qatomic_set(&s->irq_pending, 0);
    s->power_state = 0;         /* PMCSR is reset to D0 by the PCI core */
}

/* ---- migration ----------------------------------------------------------- */

static int mtia_pre_save(void *opaque)
{
    MtiaState *s = opaque;

    /* Completions held for a full CQ (or, impossibly after the VM stop,
     * queued engine work) are not in the snapshot: refuse rather than lose. */
    if (mtia_core_save(s->core, &s->snap) != 0) {
        error_report("mtia: hardware queues busy (completions held for a full "
                     "CQ): cannot save the device now");
        return -EBUSY;
    }
    return 0;
}

static int mtia_pre_load(void *opaque)
{
    MtiaState *s = opaque;

    /* A version 1 stream leaves the firmware fields zero: core idle; a
     * version 2 stream leaves the queues disabled; before version 4 the
     * telemetry stays as the destination has it; before version 5 the
     * device MMU is off; before version 6 the aggregate ECC counts stay. */
    memset(&s->snap, 0, sizeof(s->snap));
    return 0;
}

static int mtia_post_load(void *opaque, int version_id)
{
    MtiaState *s = opaque;
    uint16_t pmcsr = pci_get_word(PCI_DEVICE(s)->config + MTIA_PM_CAP_OFFSET +
                                  PCI_PM_CTRL);

    /* The power state is PMCSR's, which came with the config space. */
    s->power_state = (pmcsr & PCI_PM_CTRL_STATE_MASK) == 3 ? 3 : 0;
    return mtia_core_load(s->core, &s->snap) == 0 ? 0 : -EINVAL;
}

static const VMStateDescription vmstate_mtia = {
    .name = TYPE_MTIA,
    .version_id = MTIA_CORE_SNAPSHOT_VERSION,
    .minimum_version_id = MTIA_CORE_SNAPSHOT_VERSION_MIN,
    .pre_save = mtia_pre_save,
    .pre_load = mtia_pre_load,
    .post_load = mtia_post_load,
    .fields = (VMStateField[]) {
        VMSTATE_PCI_DEVICE(parent_obj, MtiaState),
        VMSTATE_MSIX(parent_obj, MtiaState),
        VMSTATE_UINT32(snap.scratch, MtiaState),
        VMSTATE_UINT32(snap.irq_status, MtiaState),
        VMSTATE_UINT32(snap.irq_mask, MtiaState),
        VMSTATE_UINT32(snap.reset_count, MtiaState),
        VMSTATE_UINT32(snap.err_status, MtiaState),
        VMSTATE_UINT32(snap.err_addr, MtiaState),
        /* version 2: firmware boot, mailbox, control core */
        VMSTATE_UINT32_V(snap.fw_stage_lo, MtiaState, 2),
        VMSTATE_UINT32_V(snap.fw_stage_hi, MtiaState, 2),
        VMSTATE_UINT32_V(snap.fw_stage_size, MtiaState, 2),
        VMSTATE_UINT32_V(snap.fw_boot_status, MtiaState, 2),
        VMSTATE_UINT32_V(snap.fw_status, MtiaState, 2),
        VMSTATE_UINT32_V(snap.fw_version, MtiaState, 2),
        VMSTATE_UINT32_V(snap.fw_heartbeat, MtiaState, 2),
        VMSTATE_UINT32_V(snap.fw_trap_cause, MtiaState, 2),
        VMSTATE_UINT32_V(snap.fw_trap_pc, MtiaState, 2),
        VMSTATE_UINT32_V(snap.fw_trap_tval, MtiaState, 2),
        VMSTATE_UINT32_V(snap.fw_log_addr, MtiaState, 2),
        VMSTATE_UINT32_V(snap.fw_log_size, MtiaState, 2),
        VMSTATE_UINT32_ARRAY_V(snap.mbox_cmd, MtiaState, MTIA_CORE_MBOX_WORDS, 2),
        VMSTATE_UINT32_ARRAY_V(snap.mbox_resp, MtiaState, MTIA_CORE_MBOX_WORDS, 2),
        VMSTATE_UINT32_V(snap.mbox_doorbell, MtiaState, 2),
        VMSTATE_UINT32_V(snap.cc_running, MtiaState, 2),
        VMSTATE_UINT64_V(snap.cc_mtime, MtiaState, 2),
        VMSTATE_UINT64_V(snap.cc_mtimecmp, MtiaState, 2),
        VMSTATE_UINT32_ARRAY_V(snap.cc_x, MtiaState, 32, 2),
        VMSTATE_UINT32_V(snap.cc_pc, MtiaState, 2),
        VMSTATE_UINT32_V(snap.cc_mstatus, MtiaState, 2),
        VMSTATE_UINT32_V(snap.cc_misa, MtiaState, 2),
        VMSTATE_UINT32_V(snap.cc_mie, MtiaState, 2),
        VMSTATE_UINT32_V(snap.cc_mtvec, MtiaState, 2),
        VMSTATE_UINT32_V(snap.cc_mscratch, MtiaState, 2),
        VMSTATE_UINT32_V(snap.cc_mepc, MtiaState, 2),
        VMSTATE_UINT32_V(snap.cc_mcause, MtiaState, 2),
        VMSTATE_UINT32_V(snap.cc_mtval, MtiaState, 2),
        VMSTATE_UINT32_V(snap.cc_mcountinhibit, MtiaState, 2),
        VMSTATE_UINT64_V(snap.cc_cycle, MtiaState, 2),
        VMSTATE_UINT64_V(snap.cc_instret, MtiaState, 2),
        VMSTATE_UINT8_ARRAY_V(snap.cc_sram, MtiaState, MTIA_CORE_CC_SRAM_BYTES, 2),
        /* version 3: hardware queues */
        VMSTATE_UINT32_ARRAY_V(snap.q_state, MtiaState,
                               MTIA_CORE_NUM_QUEUES * MTIA_CORE_Q_WORDS, 3),
        VMSTATE_UINT32_ARRAY_V(snap.q_sqe, MtiaState, MTIA_CORE_SQE_WORDS, 3),
        VMSTATE_UINT32_V(snap.q_sqe_valid, MtiaState, 3),
        VMSTATE_UINT32_V(snap.q_sqe_queue, MtiaState, 3),
        VMSTATE_UINT32_V(snap.q_sqe_head, MtiaState, 3),
        VMSTATE_UINT32_V(snap.q_fetch_status, MtiaState, 3),
        VMSTATE_UINT32_V(snap.q_select, MtiaState, 3),
        VMSTATE_UINT32_V(snap.q_engine_event, MtiaState, 3),
        /* version 4: board telemetry */
        VMSTATE_UINT32_V(snap.tel_temp_mc, MtiaState, 4),
        VMSTATE_UINT32_V(snap.tel_power_cap_mw, MtiaState, 4),
        VMSTATE_UINT64_V(snap.tel_energy_mj, MtiaState, 4),
        VMSTATE_UINT32_V(snap.tel_ecc_corrected, MtiaState, 4),
        VMSTATE_UINT32_V(snap.tel_ecc_uncorrected, MtiaState, 4),
        /* version 5: the device MMU's registers */
        VMSTATE_UINT32_V(snap.mmu_ctrl, MtiaState, 5),
        VMSTATE_UINT32_V(snap.mmu_ctx_table_lo, MtiaState, 5),
        VMSTATE_UINT32_V(snap.mmu_ctx_table_hi, MtiaState, 5),
        VMSTATE_UINT32_V(snap.mmu_ctx_count, MtiaState, 5),
        VMSTATE_UINT32_V(snap.mmu_fault_addr_lo, MtiaState, 5),
        VMSTATE_UINT32_V(snap.mmu_fault_addr_hi, MtiaState, 5),
        VMSTATE_UINT32_V(snap.mmu_fault_ctx, MtiaState, 5),
        VMSTATE_UINT32_V(snap.mmu_fault_count, MtiaState, 5),
        VMSTATE_UINT32_V(snap.mmu_fault_info, MtiaState, 5),
        /* version 6: aggregate ECC counts */
        VMSTATE_UINT32_V(snap.tel_ecc_agg_present, MtiaState, 6),
        VMSTATE_UINT32_V(snap.tel_ecc_corrected_agg, MtiaState, 6),
        VMSTATE_UINT32_V(snap.tel_ecc_uncorrected_agg, MtiaState, 6),
        VMSTATE_END_OF_LIST()
    },
};

/* ---- fault injection (QOM properties settable at run time) --------------- */

static void mtia_fault_get(Object *obj, Visitor *v, const char *name,
                           void *opaque, Error **errp)
{
    MtiaState *s = MTIA(obj);
    uint32_t kind = (uintptr_t)opaque;
    uint64_t val = s->core ? mtia_core_fault_get(s->core, kind) : 0;

    if (mtia_core_fault_is_bool(kind)) {
        bool b = val != 0;

        visit_type_bool(v, name, &b, errp);
    } else {
        visit_type_uint64(v, name, &val, errp);
    }
}

static void mtia_fault_set(Object *obj, Visitor *v, const char *name,
                           void *opaque, Error **errp)
{
    MtiaState *s = MTIA(obj);
    uint32_t kind = (uintptr_t)opaque;
    uint64_t val;

    if (mtia_core_fault_is_bool(kind)) {
        bool b;

        if (!visit_type_bool(v, name, &b, errp)) {
            return;
        }
        val = b;
    } else if (!visit_type_uint64(v, name, &val, errp)) {
        return;
    }
    if (!s->core) {
        error_setg(errp, "%s: set it once the device runs (qom-set)", name);
        return;
    }
    if (mtia_core_fault_set(s->core, kind, val) != 0) {
        error_setg(errp, "%s: value %" PRIu64 " out of range "
                   "(docs/fault-injection.md)", name, val);
        return;
    }
    trace_mtia_fault_set(name, val);
    if (kind == MTIA_CORE_FAULT_LINK_DOWN) {
        /* BAR2 reads trap (all-ones) while the link is down. */
        memory_region_rom_device_set_romd(&s->devmem, !val);
    }
}

static void mtia_fault_count_get(Object *obj, Visitor *v, const char *name,
                                 void *opaque, Error **errp)
{
    MtiaState *s = MTIA(obj);
    uint64_t val = s->core ?
        mtia_core_fault_injected(s->core, (uintptr_t)opaque) : 0;

    visit_type_uint64(v, name, &val, errp);
}

static void mtia_fault_class_props(ObjectClass *klass)
{
    uint32_t kind;
    char name[64];

    for (kind = MTIA_CORE_FAULT_DMA_ERROR; kind < MTIA_CORE_FAULT_KINDS;
         kind++) {
        const char *fault = mtia_core_fault_name(kind);

        snprintf(name, sizeof(name), "fault-%s", fault);
        object_class_property_add(klass, name,
                                  mtia_core_fault_is_bool(kind) ? "bool" :
                                  "uint64", mtia_fault_get, mtia_fault_set,
                                  NULL, (void *)(uintptr_t)kind);
        object_class_property_set_description(klass, name,
            "fault injection, settable at run time (docs/fault-injection.md)");
        snprintf(name, sizeof(name), "fault-%s-injected", fault);
        object_class_property_add(klass, name, "uint64",
                                  mtia_fault_count_get, NULL, NULL,
                                  (void *)(uintptr_t)kind);
    }
}

/* ---- QOM ----------------------------------------------------------------- */

static Property mtia_properties[] = {
    DEFINE_PROP_SIZE("devmem-size", MtiaState, devmem_size,
                     MTIA_DEFAULT_DEVMEM_BYTES),
    DEFINE_PROP_SIZE("sram-size", MtiaState, sram_size,
                     MTIA_DEFAULT_SRAM_BYTES),
    DEFINE_PROP_UINT32("pe-rows", MtiaState, pe_rows, MTIA_DEFAULT_PE_ROWS),
    DEFINE_PROP_UINT32("pe-cols", MtiaState, pe_cols, MTIA_DEFAULT_PE_COLS),
    DEFINE_PROP_UINT32("msix-vectors", MtiaState, msix_vectors,
                       MTIA_DEFAULT_MSIX_VECTORS),
    DEFINE_PROP_UINT32("revision", MtiaState, revision, MTIA_PCI_REVISION),
    DEFINE_PROP_UINT64("serial", MtiaState, serial, 0),
    /* The device MMU (MTIA_CAP_MMU); off only to measure what it costs. */
    DEFINE_PROP_BOOL("mmu", MtiaState, mmu, true),
    /* The Ed25519 public key firmware images must be signed with. */
    DEFINE_PROP_STRING("fw-pubkey", MtiaState, fw_pubkey),
    /* The board's infoROM file (lifetime ECC counts); unset: none. */
    DEFINE_PROP_STRING("inforom", MtiaState, inforom),
    /*
     * For QEMU's fuzzer (tests/fuzz/run-qemu-fuzz.sh), which runs each input
     * in a child forked after the device was created: the child has none of
     * the parent's threads. With it the core starts its threads at the first
     * BAR0 access (in the child; no lock of theirs can be held at the fork),
     * and the core's threads send interrupts by the bottom half, since no
     * vCPU thread runs queued work in the child. Off: the default.
     */
    DEFINE_PROP_BOOL("x-fork-safe", MtiaState, fork_safe, false),
    /*
     * Also for the fuzzer: every guest BAR0 write returns only once the
     * device is idle again (firmware asleep, engine done) or this many us
     * passed, so all it caused, the device's DMA included, happens before
     * the fuzzer's next step (generic-fuzz fills DMA reads from its own
     * state, which is not thread-safe). 0: off, the default.
     */
    DEFINE_PROP_UINT32("x-settle-us", MtiaState, settle_us, 0),
    /*
     * And a firmware image placed at device memory offset 0 at realize (as
     * a driver stages it), so that the fuzzer boots real firmware with only
     * FW_STAGE_SIZE and FW_BOOT. Unset: device memory starts zeroed.
     */
    DEFINE_PROP_STRING("x-fw-image", MtiaState, fw_image),
    DEFINE_PROP_END_OF_LIST(),
};

static void mtia_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = mtia_realize;
    k->exit = mtia_exit;
    k->config_write = mtia_write_config;
    k->vendor_id = MTIA_PCI_VENDOR_ID;
    k->device_id = MTIA_PCI_DEVICE_ID;
    k->class_id = MTIA_PCI_CLASS_ACCEL;
    k->revision = MTIA_PCI_REVISION;

    dc->desc = "mtia-open MTIA-class inference accelerator";
    dc->reset = mtia_qdev_reset;
    dc->vmsd = &vmstate_mtia;
    device_class_set_props(dc, mtia_properties);
    mtia_fault_class_props(klass);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
#ifdef CONFIG_FUZZ
    qemu_mutex_init(&mtia_fuzz_dma_lock);
#endif
}

static const TypeInfo mtia_info = {
    .name = TYPE_MTIA,
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(MtiaState),
    .class_init = mtia_class_init,
    .interfaces = (InterfaceInfo[]) {
        { INTERFACE_PCIE_DEVICE },
        { }
    },
};

static void mtia_register_types(void)
{
    type_register_static(&mtia_info);
}

type_init(mtia_register_types)
