"""A lab's network: its own namespace, and a veth pair whose host end is 10.200.INDEX.1/24."""
import os

from .hostcmd import LabError, sh


def make_network(lab):
    ns, ifn = lab.name, lab.ifname
    if os.path.exists("/run/netns/" + ns):
        raise LabError("network namespace %s exists already (`lab down --name %s`)" % (ns, ns))
    if os.path.exists("/sys/class/net/" + ifn):
        raise LabError("interface %s exists already" % ifn)
    sh("ip", "netns", "add", ns)
    sh("ip", "link", "add", ifn, "type", "veth", "peer", "name", "eth0", "netns", ns)
    sh("ip", "addr", "add", lab.host_address + "/24", "dev", ifn)
    sh("ip", "link", "set", ifn, "up")
    sh("ip", "-n", ns, "addr", "add", lab.address + "/24", "dev", "eth0")
    sh("ip", "-n", ns, "link", "set", "lo", "up")
    sh("ip", "-n", ns, "link", "set", "eth0", "up")


def remove_network(name, ifn):
    """Undo make_network, whatever part of it was done (IFN None: no record of the lab)."""
    if ifn and os.path.exists("/sys/class/net/" + ifn):
        sh("ip", "link", "del", ifn, check=False)
    if os.path.exists("/run/netns/" + name):
        sh("ip", "netns", "del", name, check=False)
