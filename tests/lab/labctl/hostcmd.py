"""Running things on the host for the lab: commands, a lock, mounts, and the lab's errors."""
import contextlib
import fcntl
import os
import re
import shutil
import subprocess
import sys

# The programs the lab copies into its trees and seeds (real files, read from here).
FILES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "files")


class LabError(RuntimeError):
    pass


class BootError(LabError):
    """The lab's init or sshd did not come up."""


def log(msg):
    sys.stderr.write("lab: %s\n" % msg)
    sys.stderr.flush()


def sh(*argv, check=True, quiet=False, **kw):
    """Run ARGV; with check, a failure is a LabError that carries the tail of its stderr."""
    if not quiet:
        kw.setdefault("stdout", subprocess.DEVNULL)
    r = subprocess.run(list(argv), stdin=kw.pop("stdin", subprocess.DEVNULL),
                       stderr=kw.pop("stderr", subprocess.PIPE), check=False, **kw)
    if check and r.returncode != 0:
        err = r.stderr.decode(errors="replace").strip() if isinstance(r.stderr, bytes) else ""
        raise LabError("%s failed (%d): %s" % (" ".join(argv), r.returncode, err[-2000:]))
    return r


def need_root():
    if os.geteuid() != 0:
        raise LabError("the lab needs root")


@contextlib.contextmanager
def flock(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def install_file(name, dest, mode=0o644):
    """Copy FILES/NAME to DEST with MODE."""
    shutil.copyfile(os.path.join(FILES, name), dest)
    os.chmod(dest, mode)


def read_file(name):
    with open(os.path.join(FILES, name)) as f:
        return f.read()


def umount_under(path):
    """Lazily unmount PATH and everything mounted below it, deepest first."""
    path = os.path.realpath(path)
    with open("/proc/self/mounts") as f:
        lines = f.read().splitlines()
    for line in reversed(lines):
        # The kernel writes a blank, tab, newline or backslash in a mount point as \ooo.
        mnt = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), line.split()[1])
        if mnt == path or mnt.startswith(path + "/"):
            sh("umount", "-l", mnt, check=False)


def remove_tree(path):
    if not os.path.lexists(path):
        return
    umount_under(path)  # never follow into a mount left behind by a failed build
    shutil.rmtree(path)
