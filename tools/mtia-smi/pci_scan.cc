// SPDX-License-Identifier: MIT
#include "pci_scan.h"

extern "C" {
#include <pci/pci.h>
}

#include <cstdio>

#include "mtia/mtia_spec.h"

namespace mtia::smi {

std::vector<PciFunction> scan_mtia_pci()
{
    std::vector<PciFunction> out;
    pci_access *pacc = pci_alloc();
    if (!pacc) {
        return out;
    }
    pci_init(pacc);
    pci_scan_bus(pacc);
    for (pci_dev *d = pacc->devices; d; d = d->next) {
        pci_fill_info(d, PCI_FILL_IDENT);
        if (d->vendor_id != MTIA_PCI_VENDOR_ID || d->device_id != MTIA_PCI_DEVICE_ID) {
            continue;
        }
        PciFunction f;
        char buf[256];
        std::snprintf(buf, sizeof(buf), "%04x:%02x:%02x.%d", d->domain, d->bus, d->dev, d->func);
        f.bus_id = buf;
        f.vendor_id = d->vendor_id;
        f.device_id = d->device_id;
        f.vendor_name = pci_lookup_name(pacc, buf, sizeof(buf), PCI_LOOKUP_VENDOR, d->vendor_id);
        f.device_name = pci_lookup_name(pacc, buf, sizeof(buf), PCI_LOOKUP_DEVICE, d->vendor_id, d->device_id);
        out.push_back(std::move(f));
    }
    pci_cleanup(pacc);
    return out;
}

}  // namespace mtia::smi
