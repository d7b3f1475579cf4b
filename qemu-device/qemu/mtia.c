/*
 * mtia-open: an emulated MTIA-class inference accelerator (PCIe endpoint).
 *
 * This file is only the QEMU glue. Register behaviour lives in the C++ core
 * (hw/misc/mtia/, qemu-device/core/ in the mtia-open tree) behind the C ABI
 * in mtia_core.h; PCI identity and the register map come from mtia_spec.h.
 *
 *   BAR0  MTIA_BAR0_SIZE of registers, every access forwarded to the core
 *   BAR2  64-bit prefetchable device memory, RAM backed, "devmem-size" bytes
 *   BAR4  MSI-X table and PBA, "msix-vectors" vectors
 *
 * SPDX-License-Identifier: MIT
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/module.h"
#include "qemu/units.h"
#include "qapi/error.h"
#include "hw/pci/pci.h"
#include "hw/pci/pcie.h"
#include "hw/pci/msix.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"
#include "qom/object.h"
#include "trace.h"

#include "mtia/mtia_core.h"
#include "mtia/mtia_spec.h"

#define TYPE_MTIA "mtia"
OBJECT_DECLARE_SIMPLE_TYPE(MtiaState, MTIA)

#define MTIA_PCIE_CAP_OFFSET 0x80

struct MtiaState {
    PCIDevice parent_obj;

    MemoryRegion regs;
    MemoryRegion devmem;

    struct mtia_core *core;
    /* Core state as migrated: filled in pre_save, applied in post_load. */
    struct mtia_core_snapshot snap;

    /* Properties */
    uint64_t devmem_size;
    uint64_t sram_size;
    uint32_t pe_rows;
    uint32_t pe_cols;
    uint32_t msix_vectors;
    uint32_t revision;
};

/* ---- callbacks from the core ------------------------------------------- */

static void mtia_raise_irq(void *opaque, unsigned vector)
{
    MtiaState *s = opaque;
    PCIDevice *pdev = PCI_DEVICE(s);
    bool deliver = vector < s->msix_vectors && msix_enabled(pdev);

    trace_mtia_irq(vector, deliver);
    if (deliver) {
        msix_notify(pdev, vector);
    }
}

static void mtia_guest_error(void *opaque, const char *msg)
{
    trace_mtia_guest_error(msg);
    qemu_log_mask(LOG_GUEST_ERROR, "%s\n", msg);
}

static const struct mtia_core_host_ops mtia_host_ops = {
    .raise_irq = mtia_raise_irq,
    .guest_error = mtia_guest_error,
};

/* ---- BAR0 -------------------------------------------------------------- */

static uint64_t mtia_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    MtiaState *s = opaque;
    uint64_t val = mtia_core_mmio_read(s->core, addr, size);

    trace_mtia_mmio_read(addr, size, val);
    return val;
}

static void mtia_mmio_write(void *opaque, hwaddr addr, uint64_t val,
                            unsigned size)
{
    MtiaState *s = opaque;

    trace_mtia_mmio_write(addr, size, val);
    mtia_core_mmio_write(s->core, addr, val, size);
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
    if (mtia_core_config_validate(&cfg, why, sizeof(why)) != 0) {
        error_setg(errp, "%s", why);
        return;
    }

    s->core = mtia_core_new(&cfg, &mtia_host_ops, s);
    if (!s->core) {
        error_setg(errp, "mtia: could not create the device core");
        return;
    }

    pci_config_set_revision(pdev->config, s->revision);

    if (pcie_endpoint_cap_init(pdev, MTIA_PCIE_CAP_OFFSET) < 0) {
        error_setg(errp, "mtia: could not add the PCI Express capability");
        goto fail_core;
    }
    mtia_pcie_link_init(pdev);

    memory_region_init_io(&s->regs, OBJECT(s), &mtia_mmio_ops, s,
                          "mtia-regs", MTIA_BAR0_SIZE);
    pci_register_bar(pdev, MTIA_BAR_REGS, PCI_BASE_ADDRESS_SPACE_MEMORY,
                     &s->regs);

    memory_region_init_ram(&s->devmem, OBJECT(s), "mtia-devmem",
                           s->devmem_size, errp);
    if (*errp) {
        goto fail_pcie;
    }
    pci_register_bar(pdev, MTIA_BAR_DEVMEM,
                     PCI_BASE_ADDRESS_SPACE_MEMORY |
                     PCI_BASE_ADDRESS_MEM_TYPE_64 |
                     PCI_BASE_ADDRESS_MEM_PREFETCH,
                     &s->devmem);

    if (msix_init_exclusive_bar(pdev, s->msix_vectors, MTIA_BAR_MSIX, errp)) {
        goto fail_pcie;
    }
    for (i = 0; i < s->msix_vectors; i++) {
        msix_vector_use(pdev, i);
    }
    return;

fail_pcie:
    pcie_cap_exit(pdev);
fail_core:
    mtia_core_free(s->core);
    s->core = NULL;
}

static void mtia_exit(PCIDevice *pdev)
{
    MtiaState *s = MTIA(pdev);

    msix_unuse_all_vectors(pdev);
    msix_uninit_exclusive_bar(pdev);
    pcie_cap_exit(pdev);
    mtia_core_free(s->core);
    s->core = NULL;
}

static void mtia_qdev_reset(DeviceState *dev)
{
    MtiaState *s = MTIA(dev);

    trace_mtia_reset();
    mtia_core_reset(s->core);
}

/* ---- migration ----------------------------------------------------------- */

static int mtia_pre_save(void *opaque)
{
    MtiaState *s = opaque;

    mtia_core_save(s->core, &s->snap);
    return 0;
}

static int mtia_post_load(void *opaque, int version_id)
{
    MtiaState *s = opaque;

    return mtia_core_load(s->core, &s->snap) == 0 ? 0 : -EINVAL;
}

static const VMStateDescription vmstate_mtia = {
    .name = TYPE_MTIA,
    .version_id = MTIA_CORE_SNAPSHOT_VERSION,
    .minimum_version_id = MTIA_CORE_SNAPSHOT_VERSION,
    .pre_save = mtia_pre_save,
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
        VMSTATE_END_OF_LIST()
    },
};

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
    DEFINE_PROP_END_OF_LIST(),
};

static void mtia_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = mtia_realize;
    k->exit = mtia_exit;
    k->vendor_id = MTIA_PCI_VENDOR_ID;
    k->device_id = MTIA_PCI_DEVICE_ID;
    k->class_id = MTIA_PCI_CLASS_ACCEL;
    k->revision = MTIA_PCI_REVISION;

    dc->desc = "mtia-open MTIA-class inference accelerator";
    dc->reset = mtia_qdev_reset;
    dc->vmsd = &vmstate_mtia;
    device_class_set_props(dc, mtia_properties);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
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
