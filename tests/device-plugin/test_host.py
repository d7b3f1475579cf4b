#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""mtia-device-plugin against the kubelet stand-in (kubelet_standin.py) on
a fake sysfs tree, no device needed (CTest: device_plugin_kubelet_standin).
The tree is laid out as the PCI core and the driver lay out theirs: three
mtia functions, two under one bridge on NUMA node 0, one under another on
node 1; the plugin reads it through MTIA_SYSFS_PCI_DIR, --debugfs-dir and
MTIA_ACCEL_DIR. Checks registration, options, the ListAndWatch content,
Allocate (and its INVALID_ARGUMENT), GetPreferredAllocation, health changes
(firmware status, gone, unbind, heartbeat stall) pushed on the open stream,
re-registration when the stand-in restarts, and a clean SIGTERM exit."""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grpc  # noqa: E402
from kubelet_standin import Checks, Kubelet, Waitable, check_reregistration, terminate  # noqa: E402

WAIT = 20 * float(os.environ.get("MTIA_WAIT_SCALE", "1"))  # s, for states that come within one poll

DEVICES = [  # bdf, bridge, numa, minor, serial
    ("0000:01:00.0", "0000:00:1c.0", 0, 0, "4d54494100000001"),
    ("0000:02:00.0", "0000:00:1c.0", 0, 1, "4d54494100000002"),
    ("0000:03:00.0", "0000:00:1d.0", 1, 2, "4d54494100000003"),
]


def put(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text + "\n")


def make_tree(root):
    bus = os.path.join(root, "bus")
    os.makedirs(bus)
    for bdf, bridge, numa, minor, serial in DEVICES:
        d = os.path.join(root, "devices", "pci0000:00", bridge, bdf)
        put(os.path.join(d, "vendor"), "0x1d9b")
        put(os.path.join(d, "device"), "0x0a01")
        put(os.path.join(d, "numa_node"), str(numa))
        os.makedirs(os.path.join(d, "accel", "accel%d" % minor))
        put(os.path.join(d, "mtia", "serial"), serial)
        put(os.path.join(d, "mtia", "fw_status"), "ready")
        put(os.path.join(d, "mtia", "gone"), "0")
        os.symlink(d, os.path.join(bus, bdf))
        put(os.path.join(root, "dev-accel", "accel%d" % minor), "")
    return bus


def pump(stream):
    """Echoes stream's lines from a thread; returns a Waitable whose newest
    item is all the text so far."""
    text = Waitable()

    def run():
        seen = ""
        for line in stream:
            sys.stdout.write(line)
            seen += line
            text.add(seen)
    threading.Thread(target=run, daemon=True).start()
    return text


def fn_dir(root, i):
    bdf, bridge = DEVICES[i][0], DEVICES[i][1]
    return os.path.join(root, "devices", "pci0000:00", bridge, bdf)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--plugin", required=True)
    args = ap.parse_args()
    c = Checks()
    root = tempfile.mkdtemp(prefix="dp-host-")
    plugin = None
    try:
        bus = make_tree(root)
        sock_dir = os.path.join(root, "device-plugins")
        os.makedirs(sock_dir)
        ksock = os.path.join(sock_dir, "kubelet.sock")
        bad = subprocess.run([args.plugin, "--kubelet-socket", ksock, "--resource-name", "mtia"],
                             capture_output=True, text=True, timeout=WAIT)
        c.check("--resource-name without a domain: exit 2 with a message",
                bad.returncode == 2 and "domain/name" in bad.stderr, (bad.returncode, bad.stderr))
        env = dict(os.environ, MTIA_SYSFS_PCI_DIR=bus, MTIA_ACCEL_DIR=os.path.join(root, "dev-accel"))
        plugin = subprocess.Popen([args.plugin, "--kubelet-socket", ksock, "--poll-ms", "50",
                                   "--heartbeat-stall-ms", "500", "--debugfs-dir", os.path.join(root, "debug")],
                                  env=env, stderr=subprocess.PIPE, text=True)
        # The kubelet comes up after the plugin (it waits for kubelet.sock).
        log = pump(plugin.stderr)
        c.check("no kubelet yet: the plugin says it waits",
                log.wait(lambda t: "waiting for the kubelet" in t, WAIT) is not None)
        kubelet = Kubelet(ksock)
        ids = [d[4] for d in DEVICES]

        reg = kubelet.wait_registration(WAIT)
        c.check("the plugin registers", reg is not None)
        if reg is None:
            return c.finish()
        c.check("RegisterRequest: version v1beta1, endpoint mtia.sock, resource meta.com/mtia",
                (reg.version, reg.endpoint, reg.resource_name) == ("v1beta1", "mtia.sock", "meta.com/mtia"), reg)
        c.check("RegisterRequest options: preferred allocation, no PreStartContainer",
                reg.options.get_preferred_allocation_available and not reg.options.pre_start_required, reg.options)
        dp = kubelet.plugin(reg.endpoint)
        opts = dp.options()
        c.check("GetDevicePluginOptions says the same", opts == reg.options, opts)

        dp.watch()
        want = {ids[0]: ("Healthy", [0]), ids[1]: ("Healthy", [0]), ids[2]: ("Healthy", [1])}
        first = dp.wait_list(lambda l: True, WAIT)
        c.check("ListAndWatch: each device by serial, Healthy, its NUMA node", first == want, first)

        r = dp.allocate([ids[2]], [ids[0], ids[1]])
        c0, c1 = r.container_responses
        c.check("Allocate: the accel node, rw, at /dev/accel in the container",
                [(s.host_path, s.container_path, s.permissions) for s in c0.devices] ==
                [(os.path.join(root, "dev-accel", "accel2"), "/dev/accel/accel2", "rw")], c0)
        c.check("Allocate: MTIA_VISIBLE_DEVICES is the serial", dict(c0.envs) == {"MTIA_VISIBLE_DEVICES": ids[2]},
                c0.envs)
        c.check("Allocate: a second container gets both its devices, in order",
                [s.container_path for s in c1.devices] == ["/dev/accel/accel0", "/dev/accel/accel1"] and
                c1.envs["MTIA_VISIBLE_DEVICES"] == ids[0] + "," + ids[1], c1)
        try:
            dp.allocate(["no-such-device"])
            c.check("Allocate of an unknown ID fails with INVALID_ARGUMENT", False, "it succeeded")
        except grpc.RpcError as e:
            c.check("Allocate of an unknown ID fails with INVALID_ARGUMENT",
                    e.code() == grpc.StatusCode.INVALID_ARGUMENT and "no-such-device" in e.details(), e)

        p = dp.preferred([ids[2], ids[0], ids[1]], [ids[1]], 2)
        c.check("GetPreferredAllocation: must_include, then its bridge neighbour", p == [ids[1], ids[0]], p)
        p = dp.preferred([ids[2], ids[0], ids[1]], [ids[2]], 2)
        c.check("GetPreferredAllocation: size honoured, must_include first", len(p) == 2 and p[0] == ids[2], p)
        try:
            dp.preferred(ids, [], 4)
            c.check("GetPreferredAllocation of more than available fails", False, "it succeeded")
        except grpc.RpcError as e:
            c.check("GetPreferredAllocation of more than available fails",
                    e.code() == grpc.StatusCode.INVALID_ARGUMENT, e)

        def health_is(i, h):
            return lambda l: l.get(ids[i], ("", []))[0] == h

        status = os.path.join(fn_dir(root, 1), "mtia", "fw_status")
        put(status, "recovering")
        c.check("firmware status recovering: the stream sends the device Unhealthy",
                dp.wait_list(health_is(1, "Unhealthy"), WAIT) is not None)
        put(status, "ready")
        c.check("firmware ready again: Healthy", dp.wait_list(health_is(1, "Healthy"), WAIT) is not None)
        gone = os.path.join(fn_dir(root, 0), "mtia", "gone")
        put(gone, "1")
        lst = dp.wait_list(health_is(0, "Unhealthy"), WAIT)
        c.check("device given up (gone = 1): Unhealthy, the others Healthy",
                lst is not None and lst[ids[1]][0] == "Healthy" and lst[ids[2]][0] == "Healthy", lst)
        put(gone, "0")
        c.check("gone = 0: Healthy", dp.wait_list(health_is(0, "Healthy"), WAIT) is not None)
        accel = os.path.join(fn_dir(root, 2), "accel")
        shutil.rmtree(accel)
        lst = dp.wait_list(health_is(2, "Unhealthy"), WAIT)
        c.check("driver unbound (no accel node): still listed by serial, Unhealthy", lst is not None and len(lst) == 3,
                lst)
        try:
            dp.allocate([ids[2]])
            c.check("Allocate of a device without a node fails", False, "it succeeded")
        except grpc.RpcError as e:
            c.check("Allocate of a device without a node fails", e.code() == grpc.StatusCode.INVALID_ARGUMENT, e)
        os.makedirs(os.path.join(accel, "accel2"))
        c.check("bound again: Healthy", dp.wait_list(health_is(2, "Healthy"), WAIT) is not None)
        # A readable heartbeat that stays at 1: the stall rule fires after 500 ms.
        put(os.path.join(root, "debug", DEVICES[0][0], "fw_regs"), "state: ready\nFW_HEARTBEAT: 1")
        c.check("heartbeat stuck for --heartbeat-stall-ms: Unhealthy",
                dp.wait_list(health_is(0, "Unhealthy"), WAIT) is not None)
        # Moved once, then stuck again: Healthy for one stall time only.
        n = dp.lists.count()
        put(os.path.join(root, "debug", DEVICES[0][0], "fw_regs"), "FW_HEARTBEAT: 2")
        c.check("heartbeat moves: Healthy", dp.wait_list(health_is(0, "Healthy"), WAIT, since=n) is not None)
        os.unlink(os.path.join(root, "debug", DEVICES[0][0], "fw_regs"))  # no heartbeat: no stall rule

        # The kubelet restarts: a new kubelet.sock; the plugin registers again.
        kubelet = check_reregistration(c, kubelet, dp, lambda l: set(l) == set(ids), WAIT)
        rc = terminate(plugin, WAIT)
        c.check("SIGTERM: exit 0", rc == 0, rc)
        c.check("SIGTERM: our socket removed", not os.path.exists(os.path.join(sock_dir, "mtia.sock")))
        kubelet.stop()
        kubelet.close()
        return c.finish()
    finally:
        if plugin is not None and plugin.poll() is None:
            plugin.kill()
            plugin.wait()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
