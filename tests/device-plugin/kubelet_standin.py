# SPDX-License-Identifier: MIT
"""A kubelet stand-in for the device plugin's tests: it speaks the kubelet
device plugin API v1beta1 (tools/mtia-device-plugin/deviceplugin_v1beta1.proto)
over unix sockets as the kubelet does. It serves Registration on a socket
(kubelet.sock), records each RegisterRequest, and dials a plugin's endpoint
to call GetDevicePluginOptions, ListAndWatch (a thread keeps every response),
Allocate and GetPreferredAllocation.

The Python stubs are generated at import time from our .proto
(tests/pycheck.py grpc_stubs), so they always match the plugin's C++ ones.
Every wait is a bounded wait for a state (a condition variable), never a
sleep. Used by tests/device-plugin/test_host.py and
tests/vm/test_device_plugin.py."""

import os
import signal
import subprocess
import sys
import threading
import time
from concurrent import futures

import grpc

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PROTO_DIR = os.path.join(TOP, "tools", "mtia-device-plugin")
PROTO = "deviceplugin_v1beta1.proto"
sys.path.insert(0, os.path.join(TOP, "tests"))
from pycheck import Checks, grpc_stubs, wait_until  # noqa: E402,F401 (Checks: for the tests importing it here)


pb, pb_grpc = grpc_stubs(os.path.join(PROTO_DIR, PROTO))


class Waitable:
    """A list of things that arrive on another thread, with a bounded wait."""

    def __init__(self):
        self.items = []
        self.cv = threading.Condition()

    def add(self, item):
        with self.cv:
            self.items.append(item)
            self.cv.notify_all()

    def wait(self, pred, timeout, since=None):
        """The newest item once pred accepts it (the current state, not an
        older one), or with since (an earlier count()) the first item from
        there on that pred accepts (a state that may not last); None after
        timeout s."""
        end = time.monotonic() + timeout
        with self.cv:
            while True:
                for item in self.items[len(self.items) - 1 if since is None else since:]:
                    if pred(item):
                        return item
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self.cv.wait(left)

    def count(self):
        with self.cv:
            return len(self.items)


class _Registration(pb_grpc.RegistrationServicer):
    def __init__(self, requests):
        self.requests = requests

    def Register(self, request, context):
        self.requests.add(request)
        return pb.Empty()


class Kubelet:
    """The stand-in: Registration served on @socket_path."""

    def __init__(self, socket_path):
        self.socket_path = socket_path
        self.dir = os.path.dirname(socket_path)
        self.registrations = Waitable()
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        pb_grpc.add_RegistrationServicer_to_server(_Registration(self.registrations), self.server)
        if os.path.exists(socket_path):
            os.unlink(socket_path)
        self.server.add_insecure_port("unix:" + socket_path)
        self.server.start()
        self.channels = []

    def stop(self):
        """Goes away as a restarting kubelet does: server and socket (its
        plugin clients stay open, to see what the plugin does to them)."""
        self.server.stop(None).wait()
        if os.path.exists(self.socket_path):
            os.unlink(self.socket_path)

    def close(self):
        """Closes the plugin clients."""
        for ch in self.channels:
            ch.close()

    def wait_registration(self, timeout):
        return self.registrations.wait(lambda r: True, timeout)

    def plugin(self, endpoint):
        """A client of the plugin's DevicePlugin service at endpoint (a name in our dir)."""
        ch = grpc.insecure_channel("unix:" + os.path.join(self.dir, endpoint))
        self.channels.append(ch)
        return Plugin(pb_grpc.DevicePluginStub(ch))


class Plugin:
    def __init__(self, stub):
        self.stub = stub
        self.lists = Waitable()  # ListAndWatchResponse, in arrival order
        self.stream_done = threading.Event()
        self._stream = None

    def options(self, timeout=10):
        return self.stub.GetDevicePluginOptions(pb.Empty(), timeout=timeout, wait_for_ready=True)

    def watch(self):
        """Starts ListAndWatch; every response lands in self.lists."""
        self._stream = self.stub.ListAndWatch(pb.Empty(), wait_for_ready=True)

        def run():
            try:
                for resp in self._stream:
                    self.lists.add(resp)
            except grpc.RpcError:
                pass
            self.stream_done.set()
        threading.Thread(target=run, daemon=True).start()

    def cancel(self):
        if self._stream is not None:
            self._stream.cancel()

    def wait_list(self, pred, timeout, since=None):
        """The newest list (a dict id -> (health, [numa ids])) once pred
        accepts it, or None; since: as Waitable.wait."""
        resp = self.lists.wait(lambda r: pred(devices_of(r)), timeout, since)
        return None if resp is None else devices_of(resp)

    def allocate(self, *containers, timeout=10):
        req = pb.AllocateRequest(container_requests=[pb.ContainerAllocateRequest(devices_ids=list(c))
                                                     for c in containers])
        return self.stub.Allocate(req, timeout=timeout)

    def preferred(self, available, must_include, size, timeout=10):
        req = pb.PreferredAllocationRequest(container_requests=[pb.ContainerPreferredAllocationRequest(
            available_deviceIDs=list(available), must_include_deviceIDs=list(must_include),
            allocation_size=size)])
        return list(self.stub.GetPreferredAllocation(req, timeout=timeout).container_responses[0].deviceIDs)


def devices_of(resp):
    return {d.ID: (d.health, [n.ID for n in d.topology.nodes]) for d in resp.devices}


def check_reregistration(c, kubelet, dp, lists_ok, timeout):
    """Restarts the stand-in as a kubelet restarts (its socket re-created at
    the same path) and checks that the plugin registers again, that the old
    stand-in's ListAndWatch stream (dp's) was ended, and that the new one's
    first lists satisfy lists_ok. Returns the new stand-in."""
    kubelet.stop()
    new = Kubelet(kubelet.socket_path)
    reg = new.wait_registration(timeout)
    c.check("the plugin registers again when the stand-in restarts",
            reg is not None and (reg.endpoint, reg.resource_name) == ("mtia.sock", "meta.com/mtia"), reg)
    c.check("the old stand-in's ListAndWatch stream was ended", dp.stream_done.wait(timeout))
    kubelet.close()
    if reg is not None:
        dp2 = new.plugin(reg.endpoint)
        dp2.watch()
        c.check("the new stand-in's ListAndWatch lists the devices", dp2.wait_list(lists_ok, timeout) is not None,
                dp2.lists.items[-1:] if dp2.lists.items else "no list")
        dp2.cancel()
    return new


def terminate(proc, timeout):
    """SIGTERM to proc; its exit status, or None if it did not exit within timeout s."""
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        return None
