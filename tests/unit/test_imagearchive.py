# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The strict reader and canonical writer of ``git:load-image`` archives (``imagearchive``,
``tarcanon``), against archives built to be read differently by different readers."""

import io
import json
import tarfile

import pytest

import tarcraft as T
from module_utils import imagearchive, tarcanon
from module_utils.tarcanon import Refused


def run(archive, app="web", chunk=None):
    """(names, canonical bytes); ``chunk`` feeds the reader in small reads."""
    out = io.BytesIO()
    source = io.BytesIO(archive)

    def read(limit):
        return source.read(min(limit, chunk) if chunk else limit)

    names, tail = imagearchive.canonicalise(read, out.write,
                                            lambda offset, size: out.getvalue()[offset:offset + size], app)
    out.write(tail)
    return names, out.getvalue()


def refused(archive, match=None, app="web"):
    with pytest.raises(Refused, match=match):
        run(archive, app)


def members(canonical):
    """The canonical output as Python's tarfile reads it: {name: (type, content or target)}."""
    out = {}
    with tarfile.open(fileobj=io.BytesIO(canonical), mode="r:") as handle:
        for info in handle:
            data = handle.extractfile(info).read() if info.isreg() else info.linkname
            out[info.name] = (info.type, data)
    return out


# -- the crafted archives: each is read two ways, and refused ------------------------------------

def test_v7_device_header_hides_a_manifest_from_python():
    archive = T.v7_device_header()
    assert json.loads(T.python_view(archive))[0]["RepoTags"] == ["dokku/web:v1"]
    assert archive.count(T.manifest_bytes([T.OTHER])) == 1
    refused(archive, "V7 or unknown tar header")


def test_nul_led_size_is_a_number_to_go_and_zero_to_python():
    archive = T.nul_led_size()
    assert json.loads(T.python_view(archive))[0]["RepoTags"] == ["dokku/web:v1"]
    refused(archive, "non-octal size")


def test_gzip_polyglot_shows_python_one_archive_and_docker_another():
    archive = T.gzip_polyglot()
    assert json.loads(T.python_view(archive))[0]["RepoTags"] == ["dokku/web:v1"]
    inner = T.python_view(T.gunzip(archive))
    assert json.loads(inner)[0]["RepoTags"] == [T.OTHER]
    refused(archive, "gzip-compressed")


@pytest.mark.parametrize("name,match", [
    ("trailing-data", "data after its end"),
    ("repotags-case", "'repotags' where Docker reads 'RepoTags'"),
    ("repotags-fold", "not ASCII"),
    ("duplicate-key", "duplicate key"),
    ("duplicate-repositories-key", "duplicate key"),
])
def test_crafted_archive_is_refused(name, match):
    refused(T.CRAFTED[name](), match)


def test_every_crafted_archive_is_refused():
    for name, build in sorted(T.CRAFTED.items()):
        with pytest.raises(Refused):
            run(build())


@pytest.mark.parametrize("head,kind", [(b"\x1f\x8b\x08\x00", "gzip"), (b"BZh91AY&SY", "bzip2"),
                                       (b"\xfd7zXZ\x00\x00", "xz"), (b"\x28\xb5\x2f\xfd", "zstd"),
                                       (b"\x5a\x2a\x4d\x18", "zstd")])
def test_compression_magic_is_refused(head, kind):
    refused(head + bytes(2000), "%s-compressed" % kind)


def test_a_member_named_like_bzip2_is_refused_at_the_head():
    # Docker would sniff the canonical output's first bytes (the first member's name) as bzip2.
    refused(T.member("BZh9x", b"x") + T.docker_save(["dokku/web:v1"]), "bzip2")


# -- headers --------------------------------------------------------------------------------------

def _with(block_override, app="web", **kw):
    return T.header("x", override=block_override, **kw) + T.docker_save(["dokku/%s:v1" % app])


@pytest.mark.parametrize("override,match", [
    ({124: b"\x0000000000012"}, "non-octal size"),
    ({124: b" 0000000001\0"}, "non-octal size"),
    ({124: b"\x80" + bytes(10) + b"\x01"}, "non-octal size"),
    ({124: b"0000000001x\0"}, "non-octal size"),
    ({100: b"07a4\0\0\0\0"}, "non-octal mode"),
    ({136: bytes(12)}, "non-octal mtime"),
    ({329: b"garbage!"}, "non-octal device major"),
    ({337: bytes(8)}, "non-octal device minor"),
    ({257: b"ustar\x0001"}, "V7 or unknown"),
    ({257: bytes(8)}, "V7 or unknown"),
    ({500: b"x"}, "padding"),
    ({0: b"x\0hidden"}, "hidden after the name"),
    ({157: b"target"}, "link name on a member"),
    ({156: b"\0"}, "unsupported tar member type"),
    ({156: b"7"}, "unsupported tar member type"),
    ({156: b"g"}, "unsupported tar member type"),
    ({156: b"S"}, "unsupported tar member type"),
    ({156: b"L"}, "unsupported tar member type"),  # GNU long names need the GNU magic
    ({156: b"1"}, "hard link"),
    ({156: b"3"}, "device or FIFO"),
    ({156: b"4"}, "device or FIFO"),
    ({156: b"6"}, "device or FIFO"),
])
def test_bad_header_fields_are_refused(override, match):
    refused(_with(override), match)


def test_bad_checksum_is_refused():
    refused(T.header("x", checksum=False) + T.docker_save(["dokku/web:v1"]), "checksum")
    block = bytearray(T.header("x"))
    block[0] ^= 1
    refused(bytes(block) + T.docker_save(["dokku/web:v1"]), "checksum")


def test_gnu_header_with_extension_data_is_refused():
    refused(T.header("x", gnu=True, override={345: b"01234567"}) + T.docker_save(["dokku/web:v1"]),
            "GNU header with extension")


def test_go_style_archive_with_gnu_long_name_and_pax_path_is_accepted_and_normalised():
    long_dir = "d" * 120
    archive = T.docker_save(["dokku/web:v1"], extra=(
        T.header("././@LongLink", flag=b"L", size=len(long_dir) + 5, gnu=True) + T.pad(long_dir.encode() + b"/f.x\0")
        + T.header("short", gnu=True, size=2) + T.pad(b"ok")
        + T.pax([("path", "p" * 150), ("mtime", "1700000000.5")]) + T.member("ignored", b"pax")))
    names, out = run(archive)
    assert names == ["dokku/web:v1"]
    got = members(out)
    assert got[long_dir + "/f.x"] == (tarfile.REGTYPE, b"ok")
    assert got["p" * 150] == (tarfile.REGTYPE, b"pax")
    assert "short" not in got and "ignored" not in got


@pytest.mark.parametrize("records,match", [
    ([("SCHILY.xattr.user.x", "1")], "pax record other than"),
    ([("GNU.sparse.map", "0,1")], "pax record other than"),
    ([("hdrcharset", "BINARY")], "pax record other than"),
    ([("uname", "root")], "pax record other than"),
    ([("path", "a"), ("path", "b")], "pax record twice"),
    ([("size", "012")], "malformed pax size"),
    ([("size", "-1")], "malformed pax size"),
    ([("mtime", "x")], "malformed pax mtime"),
])
def test_bad_pax_records_are_refused(records, match):
    refused(T.docker_save(["dokku/web:v1"], extra=T.pax(records) + T.member("x", b"1")), match)


def test_pax_size_overrides_a_zero_header_size_but_not_another_one():
    good = T.pax([("size", "3")]) + T.header("x", size=0) + T.pad(b"abc")
    names, out = run(T.docker_save(["dokku/web:v1"], extra=good))
    assert members(out)["x"] == (tarfile.REGTYPE, b"abc")
    bad = T.pax([("size", "3")]) + T.header("x", size=4) + T.pad(b"abc")
    refused(T.docker_save(["dokku/web:v1"], extra=bad), "two different sizes")


@pytest.mark.parametrize("data", [b"8 path\n", b"08 a=b\n", b"11 path=a\n", b"x path=a\n", b"7 path=a"])
def test_malformed_pax_framing_is_refused(data):
    extra = T.header("PaxHeaders.0/x", flag=b"x", size=len(data)) + T.pad(data) + T.member("x", b"1")
    refused(T.docker_save(["dokku/web:v1"], extra=extra), "pax")


def test_extended_headers_that_disagree_are_refused():
    long_name = T.header("././@LongLink", flag=b"L", size=4, gnu=True) + T.pad(b"abc\0")
    for extra in (T.pax([("path", "a")]) + T.pax([("path", "b")]) + T.member("x", b"1"),
                  long_name + T.pax([("path", "b")]) + T.member("x", b"1", gnu=True),
                  T.pax([("path", "b")]) + long_name + T.member("x", b"1", gnu=True),
                  long_name + long_name + T.member("x", b"1", gnu=True)):
        refused(T.docker_save(["dokku/web:v1"], extra=extra), "ambiguous extended headers")


@pytest.mark.parametrize("extra,match", [
    (T.member("manifest.json", T.manifest_bytes(["dokku/web:v2"])), "names a member twice"),
    (T.member("./manifest.json", T.manifest_bytes(["dokku/web:v2"])), "names a member twice"),
    (T.member("l1//VERSION", b"2"), "names a member twice"),
    (T.directory("cfg.json"), "names a member twice"),
    (T.member("cfg.json/x", b"1"), "below a file or link"),
    (T.member("/etc/passwd", b"x"), "absolute"),
    (T.member("a/../../x", b"x"), "'..'"),
    (T.member("x/", b""), "ending in '/'"),
    (T.member("a\nb", b"x"), "control character"),
    (T.symlink("l2", "/etc/passwd"), "absolute or empty link"),
    (T.symlink("l2", "../../etc/passwd"), "leaving the archive"),
    (T.symlink("l2", "l1"), "does not name a file"),
    (T.symlink("l2", "nowhere"), "does not name a file"),
    (T.pad(b"\x01") + T.EOF, "V7 or unknown"),
    (T.header("x", size=1) + b"a" + b"z" + bytes(510), "padding"),
])
def test_ambiguous_or_tricky_members_are_refused(extra, match):
    refused(T.docker_save(["dokku/web:v1"], extra=extra), match)


def test_end_of_archive_rules():
    base = T.docker_save_members(["dokku/web:v1"])
    refused(base + bytes(512) + T.member("x", b"1") + T.EOF, "lone zero block")
    refused(base, "truncated")
    refused(base + bytes(512), "truncated")
    refused(base + T.EOF + b"\0" * 700 + b"x", "data after its end")
    assert run(base + T.EOF + bytes(10240 - 1024))[0] == ["dokku/web:v1"]


def test_symlink_as_docker_save_writes_it_is_kept():
    archive = T.docker_save(["dokku/web:v1"], extra=T.directory("l2") + T.symlink("l2/layer.tar", "../l1/layer.tar"))
    names, out = run(archive)
    assert members(out)["l2/layer.tar"] == (tarfile.SYMTYPE, "../l1/layer.tar")


# -- the canonical output -----------------------------------------------------------------------

def test_canonical_output_is_plain_ustar_and_carries_exactly_the_parsed_members():
    archive = T.docker_save(["dokku/web:v1", "docker.io/dokku/web:latest"], extra=(
        T.header("./odd//name", size=3, mode=0o4755) + T.pad(b"abc")))
    names, out = run(archive, chunk=7)
    assert names == ["dokku/web:latest", "dokku/web:v1"]
    got = members(out)
    assert got["odd/name"] == (tarfile.REGTYPE, b"abc")
    assert json.loads(got["manifest.json"][1])[0]["RepoTags"] == ["dokku/web:v1", "docker.io/dokku/web:latest"]
    with tarfile.open(fileobj=io.BytesIO(out), mode="r:") as handle:
        for info in handle:
            assert info.mode in (0o644, 0o755, 0o777) and info.uid == 0 and info.uname == ""
    # The output passes the strict reader unchanged (a fixed point) and ends exactly at its end.
    again_names, again = run(out)
    assert (again_names, again) == (names, out)
    assert out.endswith(T.EOF) and len(out) % 512 == 0
    assert tarcanon.compression(out[:16]) is None


def _streamed(archive, app="web"):
    """What ``canonicalise`` writes as it reads (before any name check) and what it returns."""
    out = io.BytesIO()
    result = imagearchive.canonicalise(io.BytesIO(archive).read, out.write,
                                       lambda offset, size: out.getvalue()[offset:offset + size], app)
    return out.getvalue(), result


HELD = ("manifest.json", "repositories", "index.json", "oci-layout")


def test_members_that_name_images_are_held_back_and_written_last():
    index = {"schemaVersion": 2, "manifests": [{"annotations": {"io.containerd.image.name": "dokku/web:v1"}}]}
    archive = (T.member("oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
               + T.member("index.json", json.dumps(index).encode())
               + T.docker_save(["dokku/web:v1"]))
    streamed, (names, tail) = _streamed(archive)
    assert names == ["dokku/web:v1"]
    assert not any(name in HELD for name in members(streamed + T.EOF))
    assert streamed[-1024:] != T.EOF  # no end-of-archive before the names were checked
    whole = streamed + tail
    assert whole.endswith(T.EOF)
    with tarfile.open(fileobj=io.BytesIO(whole), mode="r:") as handle:
        order = handle.getnames()
    assert order[-4:] == ["oci-layout", "index.json", "manifest.json", "repositories"]  # as they came
    assert members(whole) == members(archive)


@pytest.mark.parametrize("name", sorted(T.CRAFTED))
def test_a_refused_archive_wrote_no_name_and_no_end(name):
    archive = T.CRAFTED[name](T.FAKE, "dokku/web:v1", "dokku/other-app:v1")
    out = io.BytesIO()
    with pytest.raises(Refused):
        imagearchive.canonicalise(io.BytesIO(archive).read, out.write,
                                  lambda offset, size: out.getvalue()[offset:offset + size], "web")
    written = out.getvalue()
    assert b"other-app" not in written and b"RepoTags" not in written
    assert written[-1024:] != T.EOF
    if written:
        assert not any(member in HELD for member in members(written + T.EOF))


def test_another_apps_name_is_refused_after_the_layers_were_written_but_before_the_names():
    streamed = []
    with pytest.raises(Refused, match="other than dokku/web"):
        imagearchive.canonicalise(io.BytesIO(T.docker_save(["dokku/web:v1", "dokku/other-app:v1"])).read,
                                  streamed.append, lambda offset, size: b"", "web")
    written = b"".join(streamed)
    assert "l1/layer.tar" in members(written + T.EOF)
    assert b"other-app" not in written and written[-1024:] != T.EOF


def test_canonical_output_of_long_names_and_links_reads_back_the_same():
    target_dir = "t" * 110
    archive = T.docker_save(["dokku/web:v1"], extra=(
        T.directory(target_dir) + T.pax([("path", target_dir + "/layer.tar")]) + T.member("x", b"L")
        + T.pax([("path", "s" * 120), ("linkpath", "../" * 0 + target_dir + "/layer.tar")])
        + T.symlink("y", "")))
    names, out = run(archive)
    got = members(out)
    assert got[target_dir + "/layer.tar"] == (tarfile.REGTYPE, b"L")
    assert got["s" * 120] == (tarfile.SYMTYPE, target_dir + "/layer.tar")
    assert run(out) == (names, out)


def test_big_size_gets_a_pax_record():
    block = tarcanon.header_bytes("file", "big", size=8 ** 11 + 5)
    records = tarcanon.parse_pax(block[512:512 + tarcanon.parse_header(block[:512]).size])
    assert records == {"size": 8 ** 11 + 5}
    assert tarcanon.parse_header(block[1024:1536]).size == 0


# -- the metadata, as Go decodes it -------------------------------------------------------------

def _names(tags=("dokku/web:v1",), **kw):
    return run(T.docker_save(list(tags), **kw))[0]


def test_legit_archives_name_the_apps_images():
    assert _names() == ["dokku/web:v1"]
    index = {"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + "a" * 64, "size": 1,
        "annotations": {"io.containerd.image.name": "docker.io/dokku/web:v2",
                        "org.opencontainers.image.ref.name": "v2"}}]}
    assert _names(index=index) == ["dokku/web:v1", "dokku/web:v2"]


@pytest.mark.parametrize("index,match", [
    ({"manifests": [{"annotations": {"org.opencontainers.image.ref.name": "v1"}}]}, "bare tag only"),
    ({"manifests": [{"annotations": {"IO.containerd.image.name": "dokku/web:v1"}}]}, "annotation"),
    ({"Manifests": []}, "'Manifests' where Docker reads 'manifests'"),
    ({"manifests": [{"Annotations": {}}]}, "'Annotations' where Docker reads 'annotations'"),
    ({"manifests": [{"annotations": {"io.containerd.image.name": 1}}]}, "malformed index.json"),
    ({"manifests": [{"annotations": {"io.containerd.image.name": "dokku/other-app:v1"}}]}, "other than"),
    ({"manifests": {}}, "malformed index.json"),
])
def test_bad_index_json_is_refused(index, match):
    refused(T.docker_save(["dokku/web:v1"], index=index), match)


def test_nested_index_in_the_archive_is_checked_too():
    nested = json.dumps({"schemaVersion": 2, "manifests": [
        {"annotations": {"io.containerd.image.name": "dokku/other-app:v1"}}]}).encode()
    import hashlib
    digest = hashlib.sha256(nested).hexdigest()
    index = {"manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json",
                            "digest": "sha256:" + digest,
                            "annotations": {"io.containerd.image.name": "dokku/web:v1"}}]}
    extra = T.directory("blobs") + T.directory("blobs/sha256") + T.member("blobs/sha256/" + digest, nested)
    refused(T.docker_save(["dokku/web:v1"], index=index, extra=extra), "other than")
    clean = nested.replace(b"other-app", b"web")
    digest2 = hashlib.sha256(clean).hexdigest()
    index["manifests"][0]["digest"] = "sha256:" + digest2
    extra = T.directory("blobs") + T.directory("blobs/sha256") + T.member("blobs/sha256/" + digest2, clean)
    assert run(T.docker_save(["dokku/web:v1"], index=index, extra=extra))[0] == ["dokku/web:v1"]


def _moving(archive, app="web"):
    """canonicalise with a ``move`` that passes content on unread (as the gate's splice does)
    and leaves a hole in what ``pread`` sees; (result, output, bytes moved)."""
    out = bytearray()
    source = io.BytesIO(archive)
    moved = []

    def move(limit):
        data = source.read(min(limit, 3000))
        out.extend(data)
        moved.append(len(data))
        return len(data)

    def pread(offset, size):
        return bytes(out[offset:offset + size])

    result = imagearchive.canonicalise(source.read, out.extend, pread, app, move)
    return result, bytes(out), sum(moved)


def test_content_moved_unread_gives_the_same_archive_but_nested_blobs_are_read():
    nested = json.dumps({"schemaVersion": 2, "manifests": [
        {"annotations": {"io.containerd.image.name": "dokku/other-app:v1"}}]}).encode()
    import hashlib
    digest = hashlib.sha256(nested).hexdigest()
    index = {"manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json", "digest": "sha256:" + digest,
                            "annotations": {"io.containerd.image.name": "dokku/web:v1"}}]}
    extra = T.directory("blobs") + T.directory("blobs/sha256") + T.member("blobs/sha256/" + digest, nested)
    with pytest.raises(Refused, match="other than"):
        _moving(T.docker_save(["dokku/web:v1"], index=index, extra=extra))
    big = T.member("l2/layer.tar", bytes(range(256)) * 100)
    (names, tail), out, moved = _moving(T.docker_save(["dokku/web:v1"], extra=big))
    assert names == ["dokku/web:v1"]
    assert out + tail == run(T.docker_save(["dokku/web:v1"], extra=big))[1]
    assert moved == 25600 + len(T.layer()) + len(b'{}') + len(b"1.0") + len(T.FAKE.entries[-1][2])
    with pytest.raises(Refused, match="truncated"):
        _moving(T.docker_save(["dokku/web:v1"], extra=big)[:5000])


@pytest.mark.parametrize("manifest,match", [
    (b'[{"Config": "cfg.json", "RepoTags": ["dokku/web:v1"], "config": "x"}]', "'config' where"),
    (b'[{"Config": "cfg.json", "REPOTAGS": ["dokku/other-app:v1"]}]', "'REPOTAGS' where"),
    (b'[{"Config": "cfg.json", "RepoTags": ["dokku/web:v1"], "Layer\\u0073": []}]', None),
    (b'[{"Config": "cfg.json", "RepoTags": "dokku/web:v1"}]', "malformed manifest.json"),
    (b'[{"Config": "cfg.json", "RepoTags": [NaN]}]', "Docker does not read"),
    (b'[{"Config": "cfg.json", "RepoTags": ["dokku/web:v1"]}] trailing', "malformed manifest.json"),
    (b'[{"Config": "cfg.json", "RepoTags": ["dokku/web:v1"], "\xff": 1}]', "malformed manifest.json"),
])
def test_manifest_json_keys_as_go_reads_them(manifest, match):
    archive = T.docker_save(["dokku/web:v1"], manifest=manifest)
    if match is None:
        # An escaped key is still the exact field name once decoded: accepted, as Go reads it.
        assert run(archive)[0] == ["dokku/web:v1"]
    else:
        refused(archive, match)


def test_oci_layout_is_decoded_strictly():
    extra = T.member("oci-layout", b'{"imageLayoutVersion": "1.0.0", "ImageLayoutVersion": "9"}')
    refused(T.docker_save(["dokku/web:v1"], extra=extra), "duplicate key|'ImageLayoutVersion'")
