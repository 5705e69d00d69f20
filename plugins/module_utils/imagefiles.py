# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files inside a local image, read the way Dokku reads them, and what the engine knows of an image.

Dokku (``plugins/common/docker.go`` ``CopyFromImage``) creates a container from the image
(``docker container create --label com.dokku.app-name=APP IMAGE``), streams
``docker container cp CID:PATH -`` and keeps the concatenated contents of the tar's entries
(``extractTarToString``); a relative PATH is taken from the image's working directory
(``GetWorkingDir``: ``/workspace`` for buildpack images, ``/app`` for herokuish ones, else
``Config.WorkingDir``). This module does the same, trying all three directories, so the
guard sees every file Dokku could copy.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import tarfile

from .deployguard import ImageReadError

MAX_TAR = 8 * 1024 * 1024


class Docker(object):
    def __init__(self, binary="docker", timeout=60):
        self.binary = binary
        self.timeout = timeout

    def _run(self, args, check=True):
        try:
            proc = subprocess.run([self.binary] + args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, timeout=self.timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise ImageReadError("docker %s failed: %s" % (args[0], error.__class__.__name__))
        if check and proc.returncode != 0:
            raise ImageReadError("docker %s %s failed" % (args[0], args[1] if len(args) > 1 else ""))
        return proc

    def inspect(self, ref):
        """``None`` when the engine has no image ``ref``, else ``(repo_tags, repo_digests)``.
        No engine at all is no local image: without one nothing can be built from the tree."""
        try:
            proc = self._run(["image", "inspect", "--format", "{{json .RepoTags}}\t{{json .RepoDigests}}", "--",
                              ref], check=False)
        except ImageReadError:
            if not os.path.exists(self.binary) and not shutil.which(self.binary):
                return None
            raise
        if proc.returncode != 0:
            message = proc.stderr.lower()
            if b"no such image" in message or b"cannot connect to the docker daemon" in message \
                    or b"permission denied while trying to connect" in message:
                return None
            raise ImageReadError("docker image inspect failed")
        try:
            tags, digests = proc.stdout.decode("utf-8").strip().split("\t")
            return list(json.loads(tags) or []), list(json.loads(digests) or [])
        except ValueError:
            raise ImageReadError("docker image inspect answered something unreadable")

    def _config(self, image, field):
        """One field of the image's ``Config``, decoded from JSON."""
        path = ".Config." + field if field else ".Config"
        proc = self._run(["image", "inspect", "--format", "{{json %s}}" % path, "--", image])
        try:
            return json.loads(proc.stdout.decode("utf-8").strip() or "null")
        except ValueError:
            raise ImageReadError("docker image inspect answered something unreadable")

    def config(self, image):
        """The image's ``Config`` (a dict: ``Labels``, ``OnBuild``, ...)."""
        config = self._config(image, "")
        if not isinstance(config, dict):
            raise ImageReadError("docker image inspect answered something unreadable")
        return config

    def _workdirs(self, image):
        workdir = self._config(image, "WorkingDir")
        out = []
        for candidate in (workdir, "/workspace", "/app"):
            if isinstance(candidate, str) and candidate and candidate not in out:
                out.append(candidate.rstrip("/") or "/")
        return out

    def read(self, app, image, paths):
        """``{path: bytes or None}``: each path's contents inside ``image`` (relative paths: the
        first working directory that holds it)."""
        if self.inspect(image) is None:
            # CopyFromImage fails on a missing image and Dokku copies nothing (`|| true`).
            return dict((path, None) for path in paths)
        workdirs = self._workdirs(image)
        # A command of our own: an image without CMD/ENTRYPOINT still gives a container to read
        # files from (create never runs it; Dokku's own create would fail there and skip the file).
        container = self._run(["container", "create", "--label", "com.dokku.app-name=%s" % app, image,
                               "/dokku-teams-guard-never-runs"])
        cid = container.stdout.decode("ascii", "replace").strip()
        if not cid or not all(c in "0123456789abcdef" for c in cid):
            raise ImageReadError("docker container create answered something unreadable")
        try:
            found = {}
            for path in paths:
                candidates = [path] if path.startswith("/") else [d.rstrip("/") + "/" + path for d in workdirs]
                found[path] = None
                for candidate in candidates:
                    data = self._copy(cid, candidate)
                    if data is not None:
                        found[path] = (found[path] or b"") + data
            return found
        finally:
            self._run(["container", "rm", "--force", cid], check=False)

    def _copy(self, cid, path):
        proc = self._run(["container", "cp", "%s:%s" % (cid, path), "-"], check=False)
        if proc.returncode != 0:
            message = proc.stderr.lower()
            # "No such container:path: CID:PATH" (docker 20+), "Could not find the file" (older)
            if b"no such container:path" in message or b"could not find" in message or b"no such file" in message:
                return None
            raise ImageReadError("docker container cp failed")
        if len(proc.stdout) > MAX_TAR:
            raise ImageReadError("a file in the image is larger than the guard reads")
        return concatenated(proc.stdout)


def concatenated(tar_bytes):
    """The contents of every regular file in a tar stream, joined (``extractTarToString``)."""
    out = []
    try:
        with tarfile.open(fileobj=io.BytesIO(tar_bytes), mode="r:") as archive:
            for member in archive:
                if member.isfile():
                    handle = archive.extractfile(member)
                    out.append(handle.read())
    except tarfile.TarError:
        raise ImageReadError("the image's file came back as an unreadable archive")
    return b"".join(out)
