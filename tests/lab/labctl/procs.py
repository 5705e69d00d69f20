"""Processes the lab starts and stops: is it alive, is it still the one we started, end it."""
import os
import time


def pid_alive(pid):
    """True while PID runs; a zombie (ended, not yet reaped) counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def starttime(pid):
    """PID's start time in clock ticks: with the pid it names one process, reuse or not."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return None


def read_pid(path):
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def wait_gone(pid, timeout):
    """Wait until PID has ended (reaping it if it is our child); False on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return True
        except ChildProcessError:
            pass
        if not pid_alive(pid):
            return True
        time.sleep(0.02)
    return False


def kill_wait(pid, sig, timeout):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return True
    return wait_gone(pid, timeout)


def netns_pids(name):
    """Every process whose network namespace is lab NAME's (its whole process tree)."""
    try:
        ref = os.stat("/run/netns/" + name)
    except OSError:
        return []
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            st = os.stat("/proc/%s/ns/net" % entry)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == (ref.st_dev, ref.st_ino):
            pids.append(int(entry))
    return pids
