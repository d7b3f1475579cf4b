/*
 * QTest for the mtia-open "mtia" PCIe device (hw/misc/mtia.c).
 *
 * Each case boots its own q35 machine with -device mtia at a fixed slot and
 * drives the device through libqos' PCI helpers: config space identity,
 * BAR0 registers, bad accesses, IRQ status/mask, the MSI-X test interrupt,
 * the register reset, BAR2 device memory and migration of the core state.
 *
 * SPDX-License-Identifier: MIT
 */

#include "qemu/osdep.h"
#include <glib/gstdio.h>
#include "libqtest.h"
#include "libqos/pci-pc.h"
#include "qapi/qmp/qdict.h"
#include "hw/pci/pci_regs.h"

#include "mtia/mtia_spec.h"

#define MTIA_SLOT       4
#define MTIA_DEVFN      QPCI_DEVFN(MTIA_SLOT, 0)
#define MSI_ADDR        0x400000ULL   /* guest RAM the MSI-X message lands in */
#define MSI_DATA        0x4d544941U

typedef struct {
    QTestState *qts;
    QPCIBus *bus;
    QPCIDevice *dev;
    QPCIBar bar0;
} Mtia;

static void mtia_start(Mtia *m, const char *props)
{
    m->qts = qtest_initf("-machine q35 -device mtia,addr=%d.0%s%s",
                         MTIA_SLOT, props ? "," : "", props ? props : "");
    m->bus = qpci_new_pc(m->qts, NULL);
    m->dev = qpci_device_find(m->bus, MTIA_DEVFN);
    g_assert(m->dev != NULL);
    qpci_device_enable(m->dev);
    m->bar0 = qpci_iomap(m->dev, MTIA_BAR_REGS, NULL);
}

static void mtia_stop(Mtia *m)
{
    g_free(m->dev);
    qpci_free_pc(m->bus);
    qtest_quit(m->qts);
}

static uint32_t rd(Mtia *m, uint32_t reg)
{
    return qpci_io_readl(m->dev, m->bar0, reg);
}

static void wr(Mtia *m, uint32_t reg, uint32_t val)
{
    qpci_io_writel(m->dev, m->bar0, reg, val);
}

/* PCI identity, the PCIe capability and the BAR layout. */
static void test_pci_config(void)
{
    Mtia m;
    uint8_t exp;
    uint32_t lnkcap;
    uint16_t lnksta;
    uint64_t size;

    mtia_start(&m, "devmem-size=64M,revision=2");
    g_assert_cmphex(qpci_config_readw(m.dev, PCI_VENDOR_ID), ==,
                    MTIA_PCI_VENDOR_ID);
    g_assert_cmphex(qpci_config_readw(m.dev, PCI_DEVICE_ID), ==,
                    MTIA_PCI_DEVICE_ID);
    g_assert_cmphex(qpci_config_readw(m.dev, PCI_CLASS_DEVICE), ==,
                    MTIA_PCI_CLASS_ACCEL);
    g_assert_cmphex(qpci_config_readb(m.dev, PCI_REVISION_ID), ==, 2);

    exp = qpci_find_capability(m.dev, PCI_CAP_ID_EXP, 0);
    g_assert_cmphex(exp, !=, 0);
    lnkcap = qpci_config_readl(m.dev, exp + PCI_EXP_LNKCAP);
    g_assert_cmphex(lnkcap & PCI_EXP_LNKCAP_SLS, ==, 4);            /* 16GT/s */
    g_assert_cmphex((lnkcap & PCI_EXP_LNKCAP_MLW) >> 4, ==, 8);     /* x8 */
    lnksta = qpci_config_readw(m.dev, exp + PCI_EXP_LNKSTA);
    g_assert_cmphex(lnksta & PCI_EXP_LNKSTA_CLS, ==, 4);
    g_assert_cmphex((lnksta & PCI_EXP_LNKSTA_NLW) >> 4, ==, 8);
    g_assert_cmphex(qpci_find_capability(m.dev, PCI_CAP_ID_MSIX, 0), !=, 0);

    /* BAR2: 64-bit prefetchable memory of devmem-size bytes. */
    qpci_config_writel(m.dev, PCI_BASE_ADDRESS_2, 0xffffffff);
    qpci_config_writel(m.dev, PCI_BASE_ADDRESS_3, 0xffffffff);
    size = qpci_config_readl(m.dev, PCI_BASE_ADDRESS_2);
    g_assert_cmphex(size & PCI_BASE_ADDRESS_MEM_TYPE_MASK, ==,
                    PCI_BASE_ADDRESS_MEM_TYPE_64);
    g_assert(size & PCI_BASE_ADDRESS_MEM_PREFETCH);
    size = ((uint64_t)qpci_config_readl(m.dev, PCI_BASE_ADDRESS_3) << 32) |
           (size & PCI_BASE_ADDRESS_MEM_MASK);
    g_assert_cmphex(~size + 1, ==, 64 * 1024 * 1024);
    qpci_config_writel(m.dev, PCI_BASE_ADDRESS_2, 0);
    qpci_config_writel(m.dev, PCI_BASE_ADDRESS_3, 0);
    mtia_stop(&m);
}

static void check_identity(const char *props, uint32_t rows, uint32_t cols,
                           uint32_t vectors, uint64_t sram, uint64_t devmem,
                           uint32_t revision)
{
    Mtia m;

    mtia_start(&m, props);
    g_assert_cmphex(rd(&m, MTIA_REG_MAGIC), ==, MTIA_MAGIC_VALUE);
    g_assert_cmphex(rd(&m, MTIA_REG_IF_VERSION), ==,
                    MTIA_IF_VERSION_MAJOR << 16 | MTIA_IF_VERSION_MINOR);
    g_assert_cmphex(rd(&m, MTIA_REG_CHIP_ID), ==, MTIA_CHIP_ID_MTIA1);
    g_assert_cmphex(rd(&m, MTIA_REG_REVISION), ==, revision);
    g_assert_cmphex(rd(&m, MTIA_REG_PE_GRID), ==, rows | cols << 8);
    g_assert_cmphex(rd(&m, MTIA_REG_MSIX_VECTORS), ==, vectors);
    g_assert_cmphex(rd(&m, MTIA_REG_SRAM_SIZE_LO), ==, (uint32_t)sram);
    g_assert_cmphex(rd(&m, MTIA_REG_SRAM_SIZE_HI), ==, (uint32_t)(sram >> 32));
    g_assert_cmphex(rd(&m, MTIA_REG_DEVMEM_SIZE_LO), ==, (uint32_t)devmem);
    g_assert_cmphex(rd(&m, MTIA_REG_DEVMEM_SIZE_HI), ==,
                    (uint32_t)(devmem >> 32));
    g_assert_cmphex(rd(&m, MTIA_REG_STATUS) & MTIA_STATUS_READY, ==,
                    MTIA_STATUS_READY);
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_STATUS), ==, 0);
    g_assert_cmphex(rd(&m, MTIA_REG_IRQ_MASK), ==, MTIA_IRQ_ALL);
    g_assert_cmphex(qpci_msix_table_size(m.dev), ==, vectors);
    mtia_stop(&m);
}

static void test_identity_default(void)
{
    check_identity(NULL, MTIA_DEFAULT_PE_ROWS, MTIA_DEFAULT_PE_COLS,
                   MTIA_DEFAULT_MSIX_VECTORS, MTIA_DEFAULT_SRAM_BYTES,
                   MTIA_DEFAULT_DEVMEM_BYTES, MTIA_PCI_REVISION);
}

static void test_identity_props(void)
{
    check_identity("devmem-size=64M,sram-size=256M,pe-rows=4,pe-cols=16,"
                   "msix-vectors=4,revision=3",
                   4, 16, 4, 256ULL << 20, 64ULL << 20, 3);
    /* Sizes above 4 GiB need the _HI registers. */
    check_identity("devmem-size=4G", MTIA_DEFAULT_PE_ROWS,
                   MTIA_DEFAULT_PE_COLS, MTIA_DEFAULT_MSIX_VECTORS,
                   MTIA_DEFAULT_SRAM_BYTES, 4ULL << 30, MTIA_PCI_REVISION);
}

static void test_scratch(void)
{
    Mtia m;

    mtia_start(&m, "devmem-size=64M");
    g_assert_cmphex(rd(&m, MTIA_REG_SCRATCH), ==, 0);
    wr(&m, MTIA_REG_SCRATCH, 0xdeadbeef);
    g_assert_cmphex(rd(&m, MTIA_REG_SCRATCH), ==, 0xdeadbeef);
    wr(&m, MTIA_REG_SCRATCH, 0x12345678);
    g_assert_cmphex(rd(&m, MTIA_REG_SCRATCH), ==, 0x12345678);
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_STATUS), ==, 0);
    mtia_stop(&m);
}

static void test_bad_access(void)
{
    Mtia m;

    mtia_start(&m, "devmem-size=64M");

    /* Unmapped offset: reads 0, latches BAD_OFFSET and the offset. */
    g_assert_cmphex(rd(&m, 0x1000), ==, 0);
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_STATUS), ==, MTIA_ERR_BAD_OFFSET);
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_ADDR), ==, 0x1000);
    wr(&m, MTIA_REG_ERR_STATUS, MTIA_ERR_BAD_OFFSET);     /* W1C */
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_STATUS), ==, 0);

    /* Unmapped write near the end of BAR0. */
    wr(&m, MTIA_BAR0_SIZE - 4, 0x1);
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_STATUS), ==, MTIA_ERR_BAD_OFFSET);
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_ADDR), ==, MTIA_BAR0_SIZE - 4);
    wr(&m, MTIA_REG_ERR_STATUS, 0xffffffff);

    /* Write to a read-only register: ignored, BAD_WRITE. */
    wr(&m, MTIA_REG_MAGIC, 0x11111111);
    g_assert_cmphex(rd(&m, MTIA_REG_MAGIC), ==, MTIA_MAGIC_VALUE);
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_STATUS), ==, MTIA_ERR_BAD_WRITE);
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_ADDR), ==, MTIA_REG_MAGIC);
    wr(&m, MTIA_REG_ERR_STATUS, 0xffffffff);

    /* Bad sizes and alignment: reads return 0, BAD_SIZE. */
    g_assert_cmphex(qpci_io_readb(m.dev, m.bar0, MTIA_REG_MAGIC), ==, 0);
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_STATUS), ==, MTIA_ERR_BAD_SIZE);
    wr(&m, MTIA_REG_ERR_STATUS, 0xffffffff);
    g_assert_cmphex(qpci_io_readw(m.dev, m.bar0, MTIA_REG_SCRATCH + 2), ==, 0);
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_STATUS), ==, MTIA_ERR_BAD_SIZE);
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_ADDR), ==, MTIA_REG_SCRATCH + 2);
    wr(&m, MTIA_REG_ERR_STATUS, 0xffffffff);
    qpci_io_writeq(m.dev, m.bar0, MTIA_REG_SCRATCH, 0x1122334455667788ULL);
    g_assert_cmphex(rd(&m, MTIA_REG_SCRATCH), ==, 0);
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_STATUS), ==, MTIA_ERR_BAD_SIZE);
    wr(&m, MTIA_REG_ERR_STATUS, 0xffffffff);

    /* The error cause was latched in IRQ_STATUS (masked, so nothing sent). */
    g_assert_cmphex(rd(&m, MTIA_REG_IRQ_STATUS) & MTIA_IRQ_ERROR, ==,
                    MTIA_IRQ_ERROR);

    /* Still alive and well. */
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_STATUS), ==, 0);
    g_assert_cmphex(rd(&m, MTIA_REG_MAGIC), ==, MTIA_MAGIC_VALUE);
    wr(&m, MTIA_REG_SCRATCH, 0xcafef00d);
    g_assert_cmphex(rd(&m, MTIA_REG_SCRATCH), ==, 0xcafef00d);
    mtia_stop(&m);
}

static void test_irq_status_mask(void)
{
    Mtia m;

    mtia_start(&m, "devmem-size=64M");
    g_assert_cmphex(rd(&m, MTIA_REG_IRQ_MASK), ==, MTIA_IRQ_ALL);
    g_assert_cmphex(rd(&m, MTIA_REG_IRQ_STATUS), ==, 0);

    wr(&m, MTIA_REG_IRQ_TEST, 1);
    g_assert_cmphex(rd(&m, MTIA_REG_IRQ_STATUS), ==, MTIA_IRQ_TEST);
    /* Writing 0 clears nothing; writing the bit clears it (W1C). */
    wr(&m, MTIA_REG_IRQ_STATUS, 0);
    g_assert_cmphex(rd(&m, MTIA_REG_IRQ_STATUS), ==, MTIA_IRQ_TEST);
    wr(&m, MTIA_REG_IRQ_STATUS, MTIA_IRQ_TEST);
    g_assert_cmphex(rd(&m, MTIA_REG_IRQ_STATUS), ==, 0);

    /* IRQ_MASK is plain RW. */
    wr(&m, MTIA_REG_IRQ_MASK, MTIA_IRQ_ERROR);
    g_assert_cmphex(rd(&m, MTIA_REG_IRQ_MASK), ==, MTIA_IRQ_ERROR);
    wr(&m, MTIA_REG_IRQ_MASK, MTIA_IRQ_ALL);
    g_assert_cmphex(rd(&m, MTIA_REG_IRQ_MASK), ==, MTIA_IRQ_ALL);
    mtia_stop(&m);
}

/* Program MSI-X vector @vec to write MSI_DATA to @addr, unmasked. */
static void msix_program(Mtia *m, int vec, uint64_t addr)
{
    QPCIBar t = m->dev->msix_table_bar;
    uint64_t e = m->dev->msix_table_off + vec * PCI_MSIX_ENTRY_SIZE;

    qpci_io_writel(m->dev, t, e + PCI_MSIX_ENTRY_LOWER_ADDR, (uint32_t)addr);
    qpci_io_writel(m->dev, t, e + PCI_MSIX_ENTRY_UPPER_ADDR, addr >> 32);
    qpci_io_writel(m->dev, t, e + PCI_MSIX_ENTRY_DATA, MSI_DATA);
    qpci_io_writel(m->dev, t, e + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
}

static uint32_t msi_landed(Mtia *m)
{
    uint32_t v = qtest_readl(m->qts, MSI_ADDR);

    qtest_writel(m->qts, MSI_ADDR, 0);
    return v;
}

static void test_msix(void)
{
    Mtia m;

    mtia_start(&m, "devmem-size=64M");
    qpci_msix_enable(m.dev);
    g_assert(qpci_msix_masked(m.dev, MTIA_MSIX_VEC_ADMIN));   /* reset state */
    msix_program(&m, MTIA_MSIX_VEC_ADMIN, MSI_ADDR);
    g_assert(!qpci_msix_masked(m.dev, MTIA_MSIX_VEC_ADMIN));
    qtest_writel(m.qts, MSI_ADDR, 0);

    /* Cause masked (reset state): status latches, no message. */
    wr(&m, MTIA_REG_IRQ_TEST, 1);
    g_assert_cmphex(rd(&m, MTIA_REG_IRQ_STATUS), ==, MTIA_IRQ_TEST);
    g_assert_cmphex(msi_landed(&m), ==, 0);
    wr(&m, MTIA_REG_IRQ_STATUS, MTIA_IRQ_TEST);

    /* Unmask with nothing pending: still nothing. */
    wr(&m, MTIA_REG_IRQ_MASK, MTIA_IRQ_ALL & ~MTIA_IRQ_TEST);
    g_assert_cmphex(msi_landed(&m), ==, 0);

    /* Unmasked: the test interrupt is delivered on vector 0. */
    wr(&m, MTIA_REG_IRQ_TEST, 1);
    g_assert_cmphex(msi_landed(&m), ==, MSI_DATA);
    g_assert_cmphex(rd(&m, MTIA_REG_IRQ_STATUS), ==, MTIA_IRQ_TEST);
    wr(&m, MTIA_REG_IRQ_STATUS, MTIA_IRQ_TEST);
    g_assert_cmphex(rd(&m, MTIA_REG_IRQ_STATUS), ==, 0);
    g_assert_cmphex(msi_landed(&m), ==, 0);

    /* Again, to show it is an edge per raise, not a one-off. */
    wr(&m, MTIA_REG_IRQ_TEST, 1);
    g_assert_cmphex(msi_landed(&m), ==, MSI_DATA);
    wr(&m, MTIA_REG_IRQ_STATUS, MTIA_IRQ_TEST);

    /* Pending while masked, then unmasked: delivered on unmask. */
    wr(&m, MTIA_REG_IRQ_MASK, MTIA_IRQ_ALL);
    wr(&m, MTIA_REG_IRQ_TEST, 1);
    g_assert_cmphex(msi_landed(&m), ==, 0);
    wr(&m, MTIA_REG_IRQ_MASK, MTIA_IRQ_ALL & ~MTIA_IRQ_TEST);
    g_assert_cmphex(msi_landed(&m), ==, MSI_DATA);
    wr(&m, MTIA_REG_IRQ_STATUS, MTIA_IRQ_TEST);

    /* MSI-X vector masked: PBA pending; delivered when the vector unmasks. */
    qpci_io_writel(m.dev, m.dev->msix_table_bar,
                   m.dev->msix_table_off + PCI_MSIX_ENTRY_VECTOR_CTRL,
                   PCI_MSIX_ENTRY_CTRL_MASKBIT);
    wr(&m, MTIA_REG_IRQ_TEST, 1);
    g_assert_cmphex(msi_landed(&m), ==, 0);
    g_assert(qpci_msix_pending(m.dev, MTIA_MSIX_VEC_ADMIN));
    qpci_io_writel(m.dev, m.dev->msix_table_bar,
                   m.dev->msix_table_off + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
    g_assert_cmphex(msi_landed(&m), ==, MSI_DATA);
    wr(&m, MTIA_REG_IRQ_STATUS, MTIA_IRQ_TEST);

    /* MSI-X disabled: nothing is sent, and nothing breaks. */
    qpci_msix_disable(m.dev);
    wr(&m, MTIA_REG_IRQ_TEST, 1);
    g_assert_cmphex(msi_landed(&m), ==, 0);
    g_assert_cmphex(rd(&m, MTIA_REG_IRQ_STATUS), ==, MTIA_IRQ_TEST);
    mtia_stop(&m);
}

/* An unmasked error cause raises the admin vector on a bad access. */
static void test_msix_error_irq(void)
{
    Mtia m;

    mtia_start(&m, "devmem-size=64M,msix-vectors=4");
    qpci_msix_enable(m.dev);
    msix_program(&m, MTIA_MSIX_VEC_ADMIN, MSI_ADDR);
    qtest_writel(m.qts, MSI_ADDR, 0);
    wr(&m, MTIA_REG_IRQ_MASK, MTIA_IRQ_ALL & ~MTIA_IRQ_ERROR);
    g_assert_cmphex(msi_landed(&m), ==, 0);
    rd(&m, 0x2000);
    g_assert_cmphex(msi_landed(&m), ==, MSI_DATA);
    g_assert_cmphex(rd(&m, MTIA_REG_IRQ_STATUS), ==, MTIA_IRQ_ERROR);
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_STATUS), ==, MTIA_ERR_BAD_OFFSET);
    mtia_stop(&m);
}

static void test_reset(void)
{
    Mtia m;
    uint32_t count;

    mtia_start(&m, "devmem-size=64M");
    count = rd(&m, MTIA_REG_RESET_COUNT);

    wr(&m, MTIA_REG_SCRATCH, 0xdeadbeef);
    wr(&m, MTIA_REG_IRQ_MASK, 0);
    wr(&m, MTIA_REG_IRQ_TEST, 1);

    /* A wrong key does nothing but flag BAD_WRITE. */
    wr(&m, MTIA_REG_RESET, 0x12345678);
    g_assert_cmphex(rd(&m, MTIA_REG_SCRATCH), ==, 0xdeadbeef);
    g_assert_cmphex(rd(&m, MTIA_REG_RESET_COUNT), ==, count);
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_STATUS) & MTIA_ERR_BAD_WRITE, ==,
                    MTIA_ERR_BAD_WRITE);

    /* The key resets scratch, IRQ and error state, and counts. */
    wr(&m, MTIA_REG_RESET, MTIA_RESET_KEY);
    g_assert_cmphex(rd(&m, MTIA_REG_SCRATCH), ==, 0);
    g_assert_cmphex(rd(&m, MTIA_REG_RESET_COUNT), ==, count + 1);
    g_assert_cmphex(rd(&m, MTIA_REG_IRQ_MASK), ==, MTIA_IRQ_ALL);
    g_assert_cmphex(rd(&m, MTIA_REG_IRQ_STATUS), ==, 0);
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_STATUS), ==, 0);
    g_assert_cmphex(rd(&m, MTIA_REG_MAGIC), ==, MTIA_MAGIC_VALUE);

    wr(&m, MTIA_REG_RESET, MTIA_RESET_KEY);
    g_assert_cmphex(rd(&m, MTIA_REG_RESET_COUNT), ==, count + 2);
    mtia_stop(&m);
}

/* A machine reset puts the registers back to their reset values. */
static void test_system_reset(void)
{
    Mtia m;

    mtia_start(&m, "devmem-size=64M");
    wr(&m, MTIA_REG_SCRATCH, 0xdeadbeef);
    wr(&m, MTIA_REG_IRQ_MASK, 0);
    qtest_qmp_assert_success(m.qts, "{ 'execute': 'system_reset' }");
    qtest_qmp_eventwait(m.qts, "RESET");
    /* Firmware would program the BARs again; so do we. */
    qpci_device_enable(m.dev);
    m.bar0 = qpci_iomap(m.dev, MTIA_BAR_REGS, NULL);
    g_assert_cmphex(rd(&m, MTIA_REG_SCRATCH), ==, 0);
    g_assert_cmphex(rd(&m, MTIA_REG_IRQ_MASK), ==, MTIA_IRQ_ALL);
    g_assert_cmphex(rd(&m, MTIA_REG_MAGIC), ==, MTIA_MAGIC_VALUE);
    mtia_stop(&m);
}

/* BAR2 is plain memory. */
static void test_devmem(void)
{
    Mtia m;
    QPCIBar bar2;
    uint64_t size;
    uint8_t buf[256], back[256];
    size_t i;

    mtia_start(&m, "devmem-size=64M");
    bar2 = qpci_iomap(m.dev, MTIA_BAR_DEVMEM, &size);
    g_assert_cmphex(size, ==, 64 * 1024 * 1024);
    for (i = 0; i < sizeof(buf); i++) {
        buf[i] = i * 7 + 1;
    }
    qpci_memwrite(m.dev, bar2, 0, buf, sizeof(buf));
    qpci_memwrite(m.dev, bar2, size - sizeof(buf), buf, sizeof(buf));
    qpci_memread(m.dev, bar2, 0, back, sizeof(back));
    g_assert_cmpmem(buf, sizeof(buf), back, sizeof(back));
    qpci_memread(m.dev, bar2, size - sizeof(back), back, sizeof(back));
    g_assert_cmpmem(buf, sizeof(buf), back, sizeof(back));
    qpci_io_writeq(m.dev, bar2, 0x1000, 0x0123456789abcdefULL);
    g_assert_cmphex(qpci_io_readq(m.dev, bar2, 0x1000), ==,
                    0x0123456789abcdefULL);
    /* Register access is unaffected. */
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_STATUS), ==, 0);
    mtia_stop(&m);
}

static const char *qmp_status(QTestState *qts, const char *cmd)
{
    static char status[64];
    QDict *rsp = qtest_qmp(qts, "{ 'execute': %s }", cmd);
    QDict *ret;

    g_assert(qdict_haskey(rsp, "return"));
    ret = qdict_get_qdict(rsp, "return");
    g_strlcpy(status, qdict_haskey(ret, "status") ?
              qdict_get_str(ret, "status") : "", sizeof(status));
    qobject_unref(rsp);
    return status;
}

/* The core's registers and device memory survive a migration. */
static void test_migration(void)
{
    Mtia m;
    QTestState *dst;
    QPCIBus *bus;
    QPCIDevice *dev;
    g_autofree char *tmpdir = g_dir_make_tmp("mtia-test-XXXXXX", NULL);
    g_autofree char *file = g_strdup_printf("%s/state", tmpdir);
    g_autofree char *uri = NULL;
    const char *st;
    uint32_t count;
    QPCIBar bar2;
    int i;

    g_assert(tmpdir);
    mtia_start(&m, "devmem-size=64M,msix-vectors=2");
    bar2 = qpci_iomap(m.dev, MTIA_BAR_DEVMEM, NULL);
    wr(&m, MTIA_REG_RESET, MTIA_RESET_KEY);
    count = rd(&m, MTIA_REG_RESET_COUNT);
    wr(&m, MTIA_REG_SCRATCH, 0x5a5aa5a5);
    wr(&m, MTIA_REG_IRQ_MASK, MTIA_IRQ_ERROR);
    wr(&m, MTIA_REG_IRQ_TEST, 1);
    rd(&m, 0x3000);                       /* ERR_STATUS, ERR_ADDR */
    qpci_io_writel(m.dev, bar2, 0x100, 0xfeedface);

    uri = g_strdup_printf("exec:cat > %s", file);
    qtest_qmp_assert_success(m.qts, "{ 'execute': 'migrate',"
                             "  'arguments': { 'uri': %s } }", uri);
    for (i = 0; i < 1000; i++) {
        st = qmp_status(m.qts, "query-migrate");
        if (!strcmp(st, "completed") || !strcmp(st, "failed")) {
            break;
        }
        g_usleep(10 * 1000);
    }
    g_assert_cmpstr(st, ==, "completed");

    dst = qtest_initf("-machine q35 -device mtia,addr=%d.0,"
                      "devmem-size=64M,msix-vectors=2 -incoming 'exec:cat %s'",
                      MTIA_SLOT, file);
    for (i = 0; i < 1000; i++) {
        st = qmp_status(dst, "query-status");
        if (strcmp(st, "inmigrate")) {
            break;
        }
        g_usleep(10 * 1000);
    }
    g_assert_cmpstr(st, !=, "inmigrate");

    /* The BAR addresses came over in config space: reuse them as they are. */
    bus = qpci_new_pc(dst, NULL);
    dev = qpci_device_find(bus, MTIA_DEVFN);
    g_assert(dev);
    g_assert_cmphex(qpci_io_readl(dev, m.bar0, MTIA_REG_MAGIC), ==,
                    MTIA_MAGIC_VALUE);
    g_assert_cmphex(qpci_io_readl(dev, m.bar0, MTIA_REG_SCRATCH), ==,
                    0x5a5aa5a5);
    g_assert_cmphex(qpci_io_readl(dev, m.bar0, MTIA_REG_RESET_COUNT), ==,
                    count);
    g_assert_cmphex(qpci_io_readl(dev, m.bar0, MTIA_REG_IRQ_MASK), ==,
                    MTIA_IRQ_ERROR);
    g_assert_cmphex(qpci_io_readl(dev, m.bar0, MTIA_REG_IRQ_STATUS), ==,
                    MTIA_IRQ_TEST | MTIA_IRQ_ERROR);
    g_assert_cmphex(qpci_io_readl(dev, m.bar0, MTIA_REG_ERR_STATUS), ==,
                    MTIA_ERR_BAD_OFFSET);
    g_assert_cmphex(qpci_io_readl(dev, m.bar0, MTIA_REG_ERR_ADDR), ==, 0x3000);
    g_assert_cmphex(qpci_io_readl(dev, bar2, 0x100), ==, 0xfeedface);

    g_free(dev);
    qpci_free_pc(bus);
    qtest_quit(dst);
    mtia_stop(&m);
    g_unlink(file);
    g_rmdir(tmpdir);
}

int main(int argc, char **argv)
{
    const char *arch = qtest_get_arch();

    g_test_init(&argc, &argv, NULL);
    if (strcmp(arch, "x86_64") && strcmp(arch, "i386")) {
        g_test_message("mtia-test: q35 only, skipping on %s", arch);
        return 0;
    }
    qtest_add_func("/mtia/pci-config", test_pci_config);
    qtest_add_func("/mtia/identity/default", test_identity_default);
    qtest_add_func("/mtia/identity/props", test_identity_props);
    qtest_add_func("/mtia/scratch", test_scratch);
    qtest_add_func("/mtia/bad-access", test_bad_access);
    qtest_add_func("/mtia/irq/status-mask", test_irq_status_mask);
    qtest_add_func("/mtia/irq/msix", test_msix);
    qtest_add_func("/mtia/irq/msix-error", test_msix_error_irq);
    qtest_add_func("/mtia/reset/register", test_reset);
    qtest_add_func("/mtia/reset/system", test_system_reset);
    qtest_add_func("/mtia/devmem", test_devmem);
    qtest_add_func("/mtia/migration", test_migration);
    return g_test_run();
}
