"""Data-side robustness corpus (issue 17): bad inputs built from real files.

Every file-level case goes through the readers (``read_image``/``read_mask`` and the
record readers), ``load_dataset``, ``to_tf_dataset`` on both decode paths and
``neuroseg.data.check``; each must give the named ``NeurosegError`` subclass with the
file's name, or the documented behaviour. Folder-level cases go through the loaders and
``check``.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from neuroseg.data import check, load_dataset, read_image, read_mask
from neuroseg.data import pipeline as P
from neuroseg.errors import (
    ChannelError,
    ConfigError,
    DataError,
    EmptyDatasetError,
    FolderLayoutError,
    MaskError,
    MetadataError,
    MultiPageError,
    NeurosegError,
    PixelValueError,
    ReadError,
    UnknownNameError,
)

from .conftest import (
    FIG,
    Built,
    br35h_jpeg,
    class_folders,
    fig_image,
    fig_mask,
    figshare_folder,
    lgg_folder,
    lgg_pair,
    mat_file,
    nifti_folder,
    pairs_folder,
    real_row,
)

pytestmark = pytest.mark.data
tifffile = pytest.importorskip("tifffile")


@dataclass(frozen=True)
class Case:
    id: str
    build: Callable[[Path], Built]
    error: type[NeurosegError]


def _png_bytes() -> bytes:
    return (FIG / "images" / "7.png").read_bytes()


def _jpeg_bytes() -> bytes:
    return br35h_jpeg().read_bytes()


def _tif_bytes() -> bytes:
    return lgg_pair()[0].read_bytes()


def _image(data: bytes | np.ndarray | Path, ext: str = ".png") -> Callable[[Path], Built]:
    def build(tmp: Path) -> Built:
        image = data
        mask = None
        decoded = (
            data
            if isinstance(data, np.ndarray)
            else cv2.imdecode(np.frombuffer(bytes(data), np.uint8), cv2.IMREAD_UNCHANGED)
            if len(data)
            else None
        )
        if decoded is not None:  # a mask of the image's size
            mask = np.zeros(decoded.shape[:2], np.uint8)
            mask[5:9, 5:9] = 255
        root, ip, _ = pairs_folder(tmp / "d", image=image, mask=mask, image_ext=ext)
        return Built(root, ip, kwargs={"mask_name": "{stem}.png"}, role="image")

    return build


def _mask(data: bytes | np.ndarray, ext: str = ".png") -> Callable[[Path], Built]:
    def build(tmp: Path) -> Built:
        root, _, mp = pairs_folder(tmp / "d", mask=data, mask_ext=ext)
        return Built(root, mp, kwargs={"mask_name": "{stem}" + ext}, role="mask")

    return build


def _tiff(array: np.ndarray, **kw: object) -> bytes:
    import io

    buf = io.BytesIO()
    tifffile.imwrite(buf, array, **kw)
    return buf.getvalue()


def _cut_middle(data: bytes, at: float, frac: float = 0.1) -> bytes:
    i = int(len(data) * at)
    return data[:i] + data[i + int(len(data) * frac) :]


def _flip(data: bytes, at: float) -> bytes:
    i = int(len(data) * at)
    return data[:i] + bytes(b ^ 0x5A for b in data[i : i + 64]) + data[i + 64 :]


def _float_image(value: float, where: tuple[slice, slice] = (slice(3, 4), slice(3, 4))) -> bytes:
    f = fig_image().astype(np.float32)
    f[where] = value
    return _tiff(f)


def _mask_with(value: int, dtype: type = np.uint8) -> np.ndarray:
    m = fig_mask().astype(dtype)
    m[0, 0] = value
    return m


def _mask16(hi: int) -> np.ndarray:
    return ((fig_mask() > 0) * hi).astype(np.uint16)


def _rgba(alpha: int) -> np.ndarray:
    g = fig_image()
    return np.dstack([g, g // 2, g // 3, np.full_like(g, alpha)])


PNG, JPG, TIF = _png_bytes(), _jpeg_bytes(), _tif_bytes()
G = fig_image()

FILE_CASES = [
    # empty files, every format
    Case("zero-png", _image(b""), ReadError),
    Case("zero-jpg", _image(b"", ".jpg"), ReadError),
    Case("zero-tif", _image(b"", ".tif"), ReadError),
    Case("zero-bmp", _image(b"", ".bmp"), ReadError),
    Case("zero-mask", _mask(b""), ReadError),
    # truncated at several offsets
    *[
        Case(f"trunc-png-{f}", _image(PNG[: int(len(PNG) * f)]), ReadError)
        for f in (0.01, 0.3, 0.6, 0.9, 0.999)
    ],
    *[
        Case(f"trunc-jpg-{f}", _image(JPG[: int(len(JPG) * f)], ".jpg"), ReadError)
        for f in (0.01, 0.3, 0.6, 0.95)
    ],
    *[
        Case(f"trunc-tif-{f}", _image(TIF[: int(len(TIF) * f)], ".tif"), ReadError)
        for f in (0.005, 0.5, 0.9)
    ],
    Case("trunc-mask-png", _mask(fig_mask().tobytes()[:0] + _png_bytes()[:900]), ReadError),
    # JPEG with its middle cut out, still ending in EOI; damaged entropy-coded data
    *[
        Case(f"cut-jpg-{f}", _image(_cut_middle(JPG, f), ".jpg"), ReadError)
        for f in (0.2, 0.5, 0.8)
    ],
    Case("cut-jpg-tiny", _image(_cut_middle(JPG, 0.5, 0.01), ".jpg"), ReadError),
    # PNG whose compressed data is damaged but which still ends in IEND
    *[Case(f"flip-png-{f}", _image(_flip(PNG, f)), ReadError) for f in (0.3, 0.7)],
    Case("cut-png-middle", _image(_cut_middle(PNG, 0.5)), ReadError),
    # wrong magic / named as another format
    Case("magic-png-zeroed", _image(b"\0" * 8 + PNG[8:]), ReadError),
    Case("magic-jpg-zeroed", _image(b"\0\0" + JPG[2:], ".jpg"), ReadError),
    Case("text-as-png", _image(b"index,label\n1,2\n" * 20), ReadError),
    Case("gif-as-png", _image(b"GIF89a" + bytes(200)), ReadError),
    Case("png-as-tif", _image(PNG, ".tif"), ReadError),
    Case("jpg-as-bmp", _image(JPG, ".bmp"), ReadError),
    Case("html-as-jpg", _image(b"<html><body>404</body></html>", ".jpg"), ReadError),
    Case(
        "png-as-tif-mask",
        _mask(fig_mask().tobytes()[:0] + (FIG / "masks" / "7.png").read_bytes(), ".tif"),
        ReadError,
    ),
    # multi-page and odd-channel images
    Case("tiff-2-pages", _image(_tiff(np.stack([G, G])), ".tif"), MultiPageError),
    Case(
        "tiff-3-pages-rgb",
        _image(_tiff(np.stack([np.dstack([G] * 3)] * 3)), ".tif"),
        MultiPageError,
    ),
    Case(
        "tiff-2-channels",
        _image(_tiff(np.dstack([G, G]), photometric="minisblack", planarconfig="contig"), ".tif"),
        ChannelError,
    ),
    Case(
        "tiff-5-channels",
        _image(_tiff(np.dstack([G] * 5), photometric="minisblack", planarconfig="contig"), ".tif"),
        ChannelError,
    ),
    Case(
        "tiff-2-pages-mask",
        _mask(_tiff(np.stack([fig_mask(), fig_mask()])), ".tif"),
        MultiPageError,
    ),
    # non-finite pixels
    Case("nan-pixel", _image(_float_image(np.nan), ".tif"), PixelValueError),
    Case("inf-pixel", _image(_float_image(np.inf), ".tif"), PixelValueError),
    Case("-inf-pixel", _image(_float_image(-np.inf), ".tif"), PixelValueError),
    Case(
        "all-nan", _image(_float_image(np.nan, (slice(None), slice(None))), ".tif"), PixelValueError
    ),
    Case(
        "nan-mask",
        _mask(_tiff(np.where(fig_mask() > 0, np.nan, 0).astype(np.float32)), ".tif"),
        PixelValueError,
    ),
    # mask values, every dtype
    Case("mask-128", _mask(_mask_with(128)), MaskError),
    Case("mask-2", _mask(_mask_with(2)), MaskError),
    Case("mask-antialiased", _mask(cv2.GaussianBlur(fig_mask(), (5, 5), 0)), MaskError),
    Case("mask16-65535", _mask(_mask16(65535)), MaskError),
    Case("mask16-256", _mask(_mask16(256)), MaskError),
    Case("mask16-1000", _mask(_mask16(1000)), MaskError),
    Case(
        "mask-float-0.5", _mask(_tiff((fig_mask() > 0).astype(np.float32) * 0.5), ".tif"), MaskError
    ),
    Case(
        "mask-float-0.999",
        _mask(_tiff((fig_mask() > 0).astype(np.float32) * 0.999), ".tif"),
        MaskError,
    ),
    Case(
        "mask-float-2.0", _mask(_tiff((fig_mask() > 0).astype(np.float32) * 2), ".tif"), MaskError
    ),
    Case("mask-int16-negative", _mask(_tiff(_mask_with(-1, np.int16)), ".tif"), MaskError),
    Case(
        "mask-rgb-colours", _mask(np.dstack([fig_mask(), fig_mask() // 255, fig_mask()])), MaskError
    ),
    Case(
        "mask-wrong-size",
        _mask(cv2.resize(fig_mask(), (200, 200), interpolation=cv2.INTER_NEAREST)),
        MaskError,
    ),
    Case("mask-transposed-size", _mask(fig_mask()[:, :255]), MaskError),
    Case(
        "mask-2-channels",
        _mask(
            _tiff(np.dstack([fig_mask()] * 2), photometric="minisblack", planarconfig="contig"),
            ".tif",
        ),
        ChannelError,
    ),
]

# documented behaviour: accepted, and decoded alike on both paths
ACCEPTED = [
    ("mask16-0-255", _mask(_mask16(255))),  # the strict reader sees the tumour natively too
    ("mask16-0-1", _mask(_mask16(1))),
    ("mask-float-0-1", _mask(_tiff((fig_mask() > 0).astype(np.float32)), ".tif")),
    ("rgba-opaque", _image(_rgba(255))),
    ("grey-as-rgb", _image(np.dstack([G] * 3))),
    ("png-named-jpg", _image(np.dstack([G] * 3), ".jpg")),
    ("real-jpeg", _image(JPG, ".jpg")),
    ("real-lgg-tiff", _image(TIF, ".tif")),
    ("image16", _image(G.astype(np.uint16) * 200)),
]


def _both_paths(ds, **kw):
    return {
        d: [tuple(t.numpy() for t in item) for item in ds.to_tf_dataset(decode=d, **kw)]
        for d in ("python", "auto")
    }


@pytest.mark.parametrize("case", FILE_CASES, ids=[c.id for c in FILE_CASES])
def test_file_case_every_entry_point(case: Case, tmp_path: Path) -> None:
    built = case.build(tmp_path)
    name = built.named.name
    # readers: the module functions and the record readers
    with pytest.raises(case.error, match=name.replace(".", r"\.")):
        if built.role == "image":
            read_image(built.named)
        else:
            read_mask(built.named, shape=(256, 256))
    ds = load_dataset("pairs", built.root, **built.kwargs)  # lazy: nothing decoded yet
    record = next(r for r in ds if Path(str(r.image)).stem == "1")
    with pytest.raises(case.error, match=name.replace(".", r"\.")):
        record.load_image() if built.role == "image" else record.load_mask()
    # the pipeline, both decode paths: the same class, naming the file, before iteration
    for decode in ("python", "auto"):
        with pytest.raises(case.error, match=name.replace(".", r"\.")):
            ds.to_tf_dataset(decode=decode, channels=1, batch_size=None)
    # data check: a problem naming the file, no crash
    report = check("pairs", built.root, progress=False, **built.kwargs)
    assert any(name in p.path or name in p.problem for p in report.problems), report.problems


@pytest.mark.parametrize("build", [b for _, b in ACCEPTED], ids=[i for i, _ in ACCEPTED])
def test_accepted_inputs_decode_alike(build, tmp_path: Path) -> None:
    built = build(tmp_path)
    ds = load_dataset("pairs", built.root, **built.kwargs)
    out = _both_paths(ds, channels=1, batch_size=None, normalize=None)
    for a, b in zip(out["python"], out["auto"], strict=True):
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y)
    if built.role == "mask":  # the tumour is seen, never read as empty
        assert all(item[1].max() == 1 for item in out["python"])
    assert check("pairs", built.root, progress=False, **built.kwargs).ok


def test_native_decoder_equals_strict_reader_unvalidated(tmp_path: Path) -> None:
    """The in-graph decoder itself (no up-front read) gives the strict reader's arrays."""
    root = class_folders(tmp_path / "c", ("glioma", "meningioma", "no_tumor", "pituitary"))
    ds = load_dataset("class-folders", root)
    assert P._native_ok(ds.records, need_mask=False)
    for channels in (1, 3):
        kw = dict(channels=channels, batch_size=None, normalize=None, validate=False)
        nat = [x.numpy() for x, _ in ds.to_tf_dataset("classification", decode="native", **kw)]
        py = [x.numpy() for x, _ in ds.to_tf_dataset("classification", decode="python", **kw)]
        for a, b in zip(nat, py, strict=True):
            np.testing.assert_array_equal(a, b)


def test_errors_reach_fit_as_named_errors(tmp_path: Path) -> None:
    """A bad file stops ``model.fit`` with the reader's error before any step runs."""
    import keras

    root, _, _mp = pairs_folder(tmp_path / "d", mask=_mask16(65535))
    ds = load_dataset("pairs", root)
    model = keras.Sequential([keras.Input((32, 32, 1)), keras.layers.Conv2D(1, 1)])
    model.compile("sgd", "mse")
    with pytest.raises(MaskError, match=r"1\.png"):
        model.fit(ds.to_tf_dataset(image_size=32, batch_size=2), epochs=1, verbose=0)
    # a file damaged after the pipeline was built: TensorFlow's error names the file
    tfds = load_dataset("pairs", root.parent / "ok" if False else root)
    good_root, _, good_mask = pairs_folder(tmp_path / "g", good=False)
    pipe = load_dataset("pairs", good_root).to_tf_dataset(image_size=32, batch_size=1)
    good_mask.write_bytes(good_mask.read_bytes()[:500])
    import tensorflow as tf

    with pytest.raises(tf.errors.OpError):
        list(pipe)
    del tfds


# ----------------------------------------------------------------------------- folders


def _fig(rows_edit: Callable[[list[list[str]]], list[list[str]]], named: str = "metadata.csv"):
    def build(tmp: Path) -> Built:
        rows = rows_edit([real_row(i) for i in (1, 2, 3)])
        root = figshare_folder(tmp / "f", [",".join(r) for r in rows])
        return Built(root, root / named, layout="figshare", role="folder")

    return build


def _fig_file(action: Callable[[Path], Path]):
    def build(tmp: Path) -> Built:
        root = figshare_folder(tmp / "f")
        return Built(root, action(root), layout="figshare", role="folder")

    return build


def _set(col: int, value: str, row: int = 1):
    def edit(rows: list[list[str]]) -> list[list[str]]:
        rows[row][col] = value
        return rows

    return edit


def _add_file(rel: str, content: bytes = b"x") -> Callable[[Path], Path]:
    def action(root: Path) -> Path:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content)
        return p

    return action


def _parent(action: Callable[[Path], Path]) -> Callable[[Path], Path]:
    return lambda root: action(root).parent


def _dangling(rel: str) -> Callable[[Path], Path]:
    def action(root: Path) -> Path:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(root / "does-not-exist.png", p)
        return p

    return action


def _classes(names: tuple[str, ...], action: Callable[[Path], Path] | None = None):
    def build(tmp: Path) -> Built:
        root = class_folders(tmp / "c", names)
        named = action(root) if action else root / names[-1]
        return Built(root, named, layout="class-folders", role="folder")

    return build


def _pairs_dir(action: Callable[[Path], Path], **kwargs: object):
    def build(tmp: Path) -> Built:
        root, _, _ = pairs_folder(tmp / "d")
        return Built(root, action(root), layout="pairs", kwargs=dict(kwargs), role="folder")

    return build


def _lgg(action: Callable[[Path, Path, Path], Path]):
    def build(tmp: Path) -> Built:
        root, image, mask = lgg_folder(tmp / "l")
        return Built(root, action(root, image, mask), layout="lgg", role="folder")

    return build


def _nifti(edit, named: str = "Pre_Mask.nii.gz"):
    def build(tmp: Path) -> Built:
        root = nifti_folder(tmp / "n", edit)
        return Built(root, root / "01" / named, layout="nifti", role="folder")

    return build


def _flip_affine(img, msk):
    nib = pytest.importorskip("nibabel")
    a = msk.affine.copy()
    a[0, :] = -a[0, :]
    return img, nib.Nifti1Image(np.asarray(msk.dataobj), a)


def _shift_affine(img, msk):
    nib = pytest.importorskip("nibabel")
    a = msk.affine.copy()
    a[:3, 3] += 5.0
    return img, nib.Nifti1Image(np.asarray(msk.dataobj), a)


def _nan_voxel(img, msk):
    nib = pytest.importorskip("nibabel")
    data = np.asarray(img.dataobj, np.float32).copy()
    data[10, 10, 3] = np.nan
    return nib.Nifti1Image(data, img.affine), msk


def _half_mask(img, msk):
    nib = pytest.importorskip("nibabel")
    return img, nib.Nifti1Image(np.asarray(msk.dataobj, np.float32) * 0.5, msk.affine)


def _short_mask(img, msk):
    return img, msk.slicer[:, :, :8]


def _nifti_truncated(tmp: Path) -> Built:
    root = nifti_folder(tmp / "n")
    m = root / "01" / "Pre_Mask.nii.gz"
    m.write_bytes(m.read_bytes()[: m.stat().st_size // 2])
    return Built(root, m, layout="nifti", role="folder")


def _mat(tmp_name: str = "7.mat", **fields: object):
    def build(tmp: Path) -> Built:
        root = tmp / "m"
        mat_file(root / "1.mat")
        named = mat_file(root / tmp_name, **fields)
        return Built(root, named, layout="figshare-mat", role="folder")

    return build


def _not_hdf5(tmp: Path) -> Built:
    root = tmp / "m"
    mat_file(root / "1.mat")
    (root / "7.mat").write_bytes(b"MATLAB 5.0 MAT-file" + bytes(200))
    return Built(root, root / "7.mat", layout="figshare-mat", role="folder")


FOLDER_CASES = [
    # figshare metadata.csv schema
    Case("meta-duplicate-row", _fig(lambda r: [*r, r[0]]), MetadataError),
    Case(
        "meta-duplicate-other-fold",
        _fig(lambda r: [*r, [*r[0][:3], "4" if r[0][3] != "4" else "3"]]),
        MetadataError,
    ),
    Case("meta-fold-0", _fig(_set(3, "0")), MetadataError),
    Case("meta-fold-minus-3", _fig(_set(3, "-3")), MetadataError),
    Case("meta-fold-text", _fig(_set(3, "abc")), MetadataError),
    Case("meta-fold-float", _fig(_set(3, "1.5")), MetadataError),
    Case("meta-fold-empty", _fig(_set(3, "")), MetadataError),
    Case("meta-label-empty", _fig(_set(1, "")), MetadataError),
    Case("meta-label-4", _fig(_set(1, "4")), MetadataError),
    Case("meta-label-0", _fig(_set(1, "0")), MetadataError),
    Case(
        "meta-label-name-contradicts",
        _fig(_set(2, "pituitary" if real_row(2)[2] != "pituitary" else "glioma")),
        MetadataError,
    ),
    Case("meta-index-text", _fig(_set(0, "two")), MetadataError),
    Case("meta-index-negative", _fig(_set(0, "-2")), MetadataError),
    Case("meta-short-row", _fig(lambda r: [r[0], r[1][:2], r[2]]), MetadataError),
    Case("meta-long-row", _fig(lambda r: [r[0], [*r[1], "extra"], r[2]]), MetadataError),
    Case(
        "meta-missing-column",
        lambda tmp: _meta_header(tmp, "index,label,label_name"),
        MetadataError,
    ),
    Case(
        "meta-listed-image-missing",
        _fig_file(lambda root: _unlink(root / "images" / "2.png")),
        ReadError,
    ),
    Case(
        "meta-listed-mask-missing",
        _fig_file(lambda root: _unlink(root / "masks" / "2.png", root / "images" / "2.png")),
        MaskError,
    ),
    Case(
        "meta-unlisted-image",
        _fig_file(lambda root: _copy(root / "images" / "1.png", root / "images" / "9.png")),
        ReadError,
    ),
    Case("fig-non-image-in-images", _fig_file(_add_file("images/notes.txt")), FolderLayoutError),
    Case(
        "fig-subfolder-in-masks",
        _fig_file(_parent(_add_file("masks/old/1.png", b"x"))),
        FolderLayoutError,
    ),
    Case(
        "fig-dangling-image",
        _fig_file(lambda root: _replace_by_link(root / "images" / "3.png")),
        ReadError,
    ),
    # class folders
    Case("alias-no_tumor-notumor", _classes(("glioma", "no_tumor", "notumor")), FolderLayoutError),
    Case(
        "alias-glioma-glioma_tumor",
        _classes(("glioma", "glioma_tumor", "no_tumor"), lambda root: root / "glioma_tumor"),
        FolderLayoutError,
    ),
    Case(
        "alias-no-tumour-spelling", _classes(("glioma", "no-tumour", "no_tumor")), FolderLayoutError
    ),
    Case(
        "class-nested-subfolder",
        _classes(("glioma", "no_tumor"), _parent(_add_file("glioma/extra/a.png", PNG))),
        FolderLayoutError,
    ),
    Case(
        "class-non-image-dcm",
        _classes(("glioma", "no_tumor"), _add_file("glioma/scan.dcm", b"DICM")),
        FolderLayoutError,
    ),
    Case(
        "class-non-image-txt",
        _classes(("glioma", "no_tumor"), _add_file("glioma/readme.txt")),
        FolderLayoutError,
    ),
    Case(
        "class-non-image-gif",
        _classes(("glioma", "no_tumor"), _add_file("no_tumor/x.gif", b"GIF89a")),
        FolderLayoutError,
    ),
    Case(
        "class-dangling-link",
        _classes(("glioma", "no_tumor"), _dangling("glioma/gone.png")),
        FolderLayoutError,
    ),
    Case(
        "class-file-among-folders",
        _classes(("glioma", "no_tumor"), _add_file("stray.png", PNG)),
        FolderLayoutError,
    ),
    Case("class-unknown-folder", _classes(("glioma", "astrocytoma")), UnknownNameError),
    Case("split-stray-folder", lambda tmp: _split_stray(tmp), FolderLayoutError),
    # pairs
    Case("pairs-dangling-image", _pairs_dir(_dangling("images/3.png")), FolderLayoutError),
    Case("pairs-non-image-mask", _pairs_dir(_add_file("masks/labels.json")), FolderLayoutError),
    Case(
        "pairs-subfolder",
        _pairs_dir(_parent(_add_file("images/sub/1.png", PNG))),
        FolderLayoutError,
    ),
    Case(
        "pairs-mask-without-image",
        _pairs_dir(lambda root: _copy(root / "masks" / "1.png", root / "masks" / "5.png")),
        MaskError,
    ),
    Case(
        "pairs-image-without-mask",
        _pairs_dir(lambda root: _copy(root / "images" / "1.png", root / "images" / "6.png")),
        MaskError,
    ),
    # LGG
    Case("lgg-slice-without-mask", _lgg(lambda root, i, m: _unlink(m, i)), MaskError),
    Case("lgg-mask-without-slice", _lgg(lambda root, i, m: _unlink(i, m)), MaskError),
    Case(
        "lgg-non-image",
        _lgg(lambda root, i, m: _add_file(f"{i.parent.name}/notes.xlsx")(root)),
        FolderLayoutError,
    ),
    Case(
        "lgg-dangling",
        _lgg(lambda root, i, m: _dangling(f"{i.parent.name}/x_9.tif")(root)),
        FolderLayoutError,
    ),
    # NIfTI
    Case("nifti-mask-mirrored-affine", _nifti(_flip_affine), MaskError),
    Case("nifti-mask-shifted-affine", _nifti(_shift_affine), MaskError),
    Case("nifti-nan-voxel", _nifti(_nan_voxel, "Pre_Scan_T1.nii.gz"), PixelValueError),
    Case("nifti-mask-0.5", _nifti(_half_mask), MaskError),
    Case("nifti-mask-shape", _nifti(_short_mask), MaskError),
    Case("nifti-truncated-mask", _nifti_truncated, ReadError),
    # figshare .mat
    Case("mat-empty-label", _mat(label=np.zeros((0, 0))), ReadError),
    Case("mat-two-labels", _mat(label=np.array([[1.0, 2.0]])), ReadError),
    Case("mat-label-7", _mat(label=np.array([[7.0]])), DataError),
    Case("mat-label-nan", _mat(label=np.array([[np.nan]])), ReadError),
    Case("mat-mask-0.5", _mat(tumorMask=((fig_mask() > 0) * 0.5).T), MaskError),
    Case("mat-no-mask", _mat(tumorMask=None), ReadError),
    Case("mat-not-hdf5", _not_hdf5, ReadError),
    Case("mat-nan-image", _mat(image=np.full((256, 256), np.nan)), PixelValueError),
]


def _unlink(p: Path, named: Path | None = None) -> Path:
    p.unlink()
    return named or p


def _copy(src: Path, dst: Path) -> Path:
    dst.write_bytes(src.read_bytes())
    return dst


def _replace_by_link(p: Path) -> Path:
    p.unlink()
    os.symlink(p.parent / "gone.png", p)
    return p


def _meta_header(tmp: Path, header: str) -> Built:
    root = figshare_folder(tmp / "f")
    lines = (root / "metadata.csv").read_text().splitlines()
    (root / "metadata.csv").write_text(
        "\n".join([header, *(",".join(ln.split(",")[:3]) for ln in lines[1:])]) + "\n"
    )
    return Built(root, root / "metadata.csv", layout="figshare", role="folder")


def _split_stray(tmp: Path) -> Built:
    root = tmp / "k"
    class_folders(root / "Training", ("glioma", "no_tumor"))
    class_folders(root / "Testing", ("glioma", "no_tumor"))
    (root / "Validation").mkdir()
    return Built(root, root / "Validation", layout="class-folders", role="folder")


@pytest.mark.parametrize("case", FOLDER_CASES, ids=[c.id for c in FOLDER_CASES])
def test_folder_case_loader_and_check(case: Case, tmp_path: Path, caplog) -> None:
    built = case.build(tmp_path)
    name = built.named.name
    with pytest.raises(case.error, match=name.replace(".", r"\.")):
        ds = load_dataset(built.layout, built.root, **built.kwargs)
        for r in ds:  # file faults of in-file formats (.mat) show when read
            r.load_image()
            r.load_mask()
    problems: list = []
    with contextlib.suppress(NeurosegError):  # nothing usable left: the loader says so
        load_dataset(built.layout, built.root, on_error=problems, **built.kwargs)
    with (
        caplog.at_level(logging.WARNING, logger="neuroseg.data"),
        contextlib.suppress(NeurosegError),
    ):
        load_dataset(built.layout, built.root, on_error="skip", **built.kwargs)
    report = check(built.layout, built.root, progress=False, **built.kwargs)
    assert any(name in p.path or name in p.problem for p in report.problems), report.problems


def test_corpus_size() -> None:
    assert len(FILE_CASES) + len(ACCEPTED) + len(FOLDER_CASES) >= 90


def test_recursive_reads_nested_class_folders(tmp_path: Path) -> None:
    root = class_folders(tmp_path / "c", ("glioma", "no_tumor"))
    (root / "glioma" / "extra").mkdir()
    (root / "glioma" / "extra" / "a.png").write_bytes(PNG)
    assert len(load_dataset("class-folders", root, recursive=True)) == 3
    problems: list = []
    assert len(load_dataset("class-folders", root, on_error=problems)) == 2
    assert [Path(p.path).name for p in problems] == ["extra"]


@pytest.mark.parametrize("pattern", ["{foo}", "{0}", "{stem", "../{stem}.png", "{stem.x}"])
def test_bad_mask_name_patterns(pattern: str, tmp_path: Path) -> None:
    root, _, _ = pairs_folder(tmp_path / "d")
    with pytest.raises(ConfigError, match="mask_name"):
        load_dataset("pairs", root, mask_name=pattern)


def test_check_on_missing_folder_fails_the_command(tmp_path: Path) -> None:
    from neuroseg.cli import main

    with pytest.raises(ReadError):
        check("pairs", tmp_path / "nope")
    assert main(["data", "check", "--format", "pairs", str(tmp_path / "nope")]) == 2


def test_empty_folder_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "e").mkdir()
    report = check("class-folders", tmp_path / "e", progress=False)
    assert not report.ok
    with pytest.raises(EmptyDatasetError):
        load_dataset("class-folders", tmp_path / "e")
