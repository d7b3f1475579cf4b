#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""In-VM half of tests/vm/test-device-plugin.sh: mtia-device-plugin on the
real devices (two) against the kubelet stand-in
(tests/device-plugin/kubelet_standin.py). Checks the registration, that
ListAndWatch lists each device by serial, Healthy, with sysfs's NUMA node,
that Allocate's node and MTIA_VISIBLE_DEVICES make libmtia open exactly the
allocated devices (tests/vm/visible_devices_probe.cc), that a firmware hang
(debugfs fw_debug, the driver's watchdog off so only the plugin's heartbeat
rule sees it) turns the device Unhealthy on the open stream and a reset
(sysfs reset) Healthy again, that a device the driver gives up (its link
taken down through QEMU's monitor: gone = 1) is Unhealthy until the link is
back and the driver rebound, that unbinding the driver does the same, that
the plugin registers
again when the stand-in restarts, and a clean SIGTERM exit. Every wait is a
bounded wait for a state."""

import os
import subprocess
import sys
import tempfile

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "device-plugin"))
from kubelet_standin import Checks, Kubelet, check_reregistration, terminate, wait_until  # noqa: E402

SCALE = float(os.environ.get("MTIA_WAIT_SCALE", "4"))
WAIT = 10 * SCALE          # s: a state the plugin reports within a poll or two
RESET_WAIT = 30 * SCALE    # s: a device reset with firmware reboot
# The heartbeat rule's stall time: 30 periods of the firmware's 100 ms
# heartbeat by default, so a briefly starved guest does not trip it.
STALL_MS = 750 * SCALE
PCI = "/sys/bus/pci/devices"
MODPARAM = "/sys/module/mtia/parameters/watchdog_ms"


def read(path, default=""):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return default


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def devices():
    """[(bdf, serial, accelN, numa)] of the bound mtia functions, by bdf."""
    out = []
    for bdf in sorted(os.listdir(PCI)):
        d = os.path.join(PCI, bdf)
        if read(d + "/vendor") != "0x1d9b" or read(d + "/device") != "0x0a01":
            continue
        nodes = [n for n in os.listdir(d + "/accel")] if os.path.isdir(d + "/accel") else []
        out.append((bdf, read(d + "/mtia/serial"), nodes[0] if nodes else "", int(read(d + "/numa_node", "-1"))))
    return out


def keep_awake(bdf):
    """Runtime PM off again after a rebind (probe allows it; tests/vm/lib.sh keep_awake)."""
    ctl = "%s/%s/power/control" % (PCI, bdf)
    if os.access(ctl, os.W_OK):
        write(ctl, "on")


def probe(visible):
    env = dict(os.environ, MTIA_VISIBLE_DEVICES=visible)
    r = subprocess.run([os.path.join(TOP, "build/bin/visible_devices_probe")], env=env, capture_output=True,
                       text=True, timeout=60)
    return r.returncode, r.stdout.strip().splitlines(), r.stderr.strip()


def main():
    c = Checks()
    devs = devices()
    if not c.check("two bound mtia devices with serials", len(devs) >= 2 and all(d[1] and d[2] for d in devs), devs):
        return c.finish()
    (bdf_a, ser_a, node_a, _), (bdf_b, ser_b, node_b, _) = devs[0], devs[1]
    tmp = tempfile.mkdtemp(prefix="dp-vm-")
    ksock = os.path.join(tmp, "kubelet.sock")
    kubelet = Kubelet(ksock)
    log = open(os.path.join(tmp, "plugin.log"), "w+")
    plugin = subprocess.Popen([os.path.join(TOP, "build/bin/mtia-device-plugin"), "--kubelet-socket", ksock,
                               "--poll-ms", "100", "--heartbeat-stall-ms", str(int(STALL_MS))], stderr=log)
    watchdog = read(MODPARAM)
    try:
        reg = kubelet.wait_registration(WAIT)
        if not c.check("the plugin registers with the stand-in", reg is not None):
            return c.finish()
        c.check("RegisterRequest: v1beta1, endpoint mtia.sock, meta.com/mtia, preferred allocation",
                (reg.version, reg.endpoint, reg.resource_name, reg.options.get_preferred_allocation_available) ==
                ("v1beta1", "mtia.sock", "meta.com/mtia", True), reg)
        dp = kubelet.plugin(reg.endpoint)
        dp.watch()
        want = {ser: ("Healthy", [numa] if numa >= 0 else []) for _, ser, _, numa in devs}
        lst = dp.wait_list(lambda l: l == want, WAIT)
        c.check("ListAndWatch: every device by serial, Healthy, sysfs's NUMA node (%s)" % want, lst is not None,
                dp.lists.items[-1:] if dp.lists.items else "no list")

        r = dp.allocate([ser_b]).container_responses[0]
        c.check("Allocate: %s -> /dev/accel/%s rw" % (ser_b, node_b),
                [(s.host_path, s.container_path, s.permissions) for s in r.devices] ==
                [("/dev/accel/" + node_b,) * 2 + ("rw",)], r)
        c.check("Allocate: MTIA_VISIBLE_DEVICES=%s" % ser_b, dict(r.envs) == {"MTIA_VISIBLE_DEVICES": ser_b}, r.envs)
        rc, out, err = probe(r.envs["MTIA_VISIBLE_DEVICES"])
        c.check("libmtia with that environment opens exactly the allocated device",
                rc == 0 and out == ["0 /dev/accel/%s %s" % (node_b, ser_b), "1 visible"], (rc, out, err))
        r = dp.allocate([ser_b, ser_a]).container_responses[0]
        rc, out, err = probe(r.envs["MTIA_VISIBLE_DEVICES"])
        c.check("two devices allocated in the order b, a: libmtia opens them in that order",
                rc == 0 and out == ["0 /dev/accel/%s %s" % (node_b, ser_b), "1 /dev/accel/%s %s" % (node_a, ser_a),
                                    "2 visible"], (rc, out, err))
        p = dp.preferred([ser_a, ser_b], [ser_b], 1)
        c.check("GetPreferredAllocation: must_include, size 1", p == [ser_b], p)

        def health(ser, h):
            return lambda l: l.get(ser, ("", []))[0] == h

        # A firmware hang with the driver's watchdog off: only the plugin's
        # heartbeat rule can see it.
        write(MODPARAM, "0")
        write("/sys/kernel/debug/accel/%s/fw_debug" % bdf_a, "hang")
        lst = dp.wait_list(lambda l: health(ser_a, "Unhealthy")(l) and health(ser_b, "Healthy")(l), WAIT)
        c.check("firmware hang on %s: the stream sends it Unhealthy, %s still Healthy" % (bdf_a, bdf_b),
                lst is not None, dp.lists.items[-1:])
        c.check("the plugin logged why (heartbeat stuck)",
                wait_until(lambda: "heartbeat stuck" in read(log.name), WAIT))
        resets = int(read("%s/%s/mtia/reset_count" % (PCI, bdf_a), "0"))
        write("%s/%s/mtia/reset" % (PCI, bdf_a), "1")
        c.check("after a reset (sysfs reset) it is Healthy again",
                dp.wait_list(health(ser_a, "Healthy"), RESET_WAIT) is not None and
                int(read("%s/%s/mtia/reset_count" % (PCI, bdf_a), "0")) > resets)
        write(MODPARAM, watchdog)

        # A dead device: the first device's link goes down (QEMU's monitor,
        # docs/fault-injection.md), the driver gives it up (gone = 1).
        mon = os.path.join(TOP, "tools/mtia-monitor")
        subprocess.run([mon, "qom-set", "/machine/peripheral/mtia0", "fault-link-down", "true"], check=True,
                       timeout=60)
        dead = wait_until(lambda: [d for d in devs if read("%s/%s/mtia/gone" % (PCI, d[0])) == "1"], RESET_WAIT)
        c.check("link down on mtia0: the driver gives one device up", len(dead) == 1, dead)
        if dead:
            bdf_d, ser_d = dead[0][0], dead[0][1]
            c.check("the stream sends the dead device Unhealthy",
                    dp.wait_list(health(ser_d, "Unhealthy"), WAIT) is not None, dp.lists.items[-1:])
            c.check("the plugin logged why (given up)", wait_until(lambda: "given up" in read(log.name), WAIT))
            subprocess.run([mon, "qom-set", "/machine/peripheral/mtia0", "fault-link-down", "false"], check=True,
                           timeout=60)
            write("/sys/bus/pci/drivers/mtia/unbind", bdf_d)
            write("/sys/bus/pci/drivers/mtia/bind", bdf_d)
            c.check("link up and the driver rebound: Healthy again",
                    dp.wait_list(health(ser_d, "Healthy"), RESET_WAIT) is not None, dp.lists.items[-1:])
            keep_awake(bdf_d)

        # The driver lets go of the device: as good as dead to the kubelet.
        write("/sys/bus/pci/drivers/mtia/unbind", bdf_b)
        lst = dp.wait_list(health(ser_b, "Unhealthy"), WAIT)
        c.check("driver unbound from %s: still listed by its serial, Unhealthy" % bdf_b,
                lst is not None and len(lst) == len(devs), lst)
        write("/sys/bus/pci/drivers/mtia/bind", bdf_b)
        c.check("bound again: Healthy", dp.wait_list(health(ser_b, "Healthy"), RESET_WAIT) is not None)
        keep_awake(bdf_b)

        # The kubelet restarts.
        kubelet = check_reregistration(c, kubelet, dp, lambda l: l == want, WAIT)
        rc = terminate(plugin, WAIT)
        c.check("SIGTERM: exit 0, socket removed", rc == 0 and not os.path.exists(os.path.join(tmp, "mtia.sock")), rc)
    finally:
        if read(MODPARAM) != watchdog:
            write(MODPARAM, watchdog)
        if plugin.poll() is None:
            plugin.kill()
            plugin.wait()
        kubelet.stop()
        kubelet.close()
        log.seek(0)
        print("--- plugin log\n" + log.read() + "---", flush=True)
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
