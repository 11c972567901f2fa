"""``neuroseg data check`` on six corrupted folders built from REAL files (issue 17, item 5).

Each builder copies a few real files of ``../shared/data`` into ``tmp_path`` in one layout
(healthy part first) and then plants SEVERAL faults at once. The Python API and the command
line (text and ``--json``) must report every planted fault naming its file (and the kind of
fault), report no healthy file, never crash, and exit 1 (problems) / 0 (clean) / 2 (the
command itself failed, e.g. no such folder).

Build one by hand (from the repository root) to see the output, e.g.::

    python -c "from pathlib import Path; from tests.robustness.test_data_check_folders \
import build_pairs; build_pairs(Path('/tmp/bad'))"
    neuroseg data check --format pairs /tmp/bad/pairs
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pytest

from neuroseg.cli import main
from neuroseg.data import check
from neuroseg.errors import ReadError

from .conftest import BR35H, DATA, FIG, LGG, TCIA

pytestmark = pytest.mark.data
tifffile = pytest.importorskip("tifffile")

KAGGLE4 = DATA / "kaggle4-training"
BRATS = DATA / "brats2020-slices"


@dataclass
class Folder:
    """A dataset folder: its layout, the planted faults (path -> regex for the kind of
    fault in the problem text) and the healthy files that must never be reported."""

    format: str
    root: Path
    faults: dict[Path, str] = field(default_factory=dict)
    healthy: list[Path] = field(default_factory=list)


# ------------------------------------------------------------------------ fault helpers


def _png_bytes(array: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", array)
    assert ok
    return buf.tobytes()


def _tiff(array: np.ndarray, **kw: object) -> bytes:
    buf = io.BytesIO()
    tifffile.imwrite(buf, array, **kw)
    return buf.getvalue()


def _truncate(path: Path, frac: float = 0.6) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * frac)])


def _cut_middle(path: Path, at: float = 0.5, frac: float = 0.1) -> None:
    """Remove a slice from the middle; the file still ends in its end marker."""
    data = path.read_bytes()
    i = int(len(data) * at)
    path.write_bytes(data[:i] + data[i + int(len(data) * frac) :])


def _rgba(grey: np.ndarray, alpha: int = 128) -> np.ndarray:
    """A real grey image as BGRA whose alpha is partly transparent."""
    a = np.full_like(grey, 255)
    a[: grey.shape[0] // 2] = alpha
    return np.dstack([grey, grey, grey, a])


def _read(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert image is not None, path
    return image


def _rest(root: Path, faults: dict[Path, str]) -> list[Path]:
    """Every file under ``root`` that is no planted fault and lies in no faulty folder."""
    return [
        q
        for q in sorted(root.rglob("*"))
        if (q.is_file() or q.is_symlink())
        and q not in faults
        and not any(str(t).startswith(f"{q}:") for t in faults)  # metadata.csv:<line>
        and not any(t in q.parents for t in faults)
    ]


def _dangling(path: Path) -> None:
    os.symlink(path.parent / "does-not-exist" / path.name, path)


TRUNC = (
    r"truncat|cannot read|corrupt|damaged|cannot decode|premature|IEND|end-of-image|cannot be read"
)
MASKVAL = r"value"
SIZE = r"\d+x\d+ but"
ALPHA = r"transparen|alpha"
STRAY = r"not an image|non-image|unsupported|stray|not a\b.*(file|slice|image)"
SUBDIR = r"sub-?folder|folder"
MISSING_MASK = r"no mask|without (a|its) mask|mask .*missing|missing"
LINK = r"dangling"
META = r"line|row|index"


# ------------------------------------------------------------------------ the six folders


def build_figshare(tmp: Path, *, plant: bool = True) -> Folder:
    """Figshare: metadata.csv + images/ + masks/ with real slices 1..8."""
    root = tmp / "figshare"
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    n = 8
    rows = (FIG / "metadata.csv").read_text().splitlines()
    keep = [r for r in rows[1:] if r.split(",")[0] in {str(i) for i in range(1, n + 1)}]
    for i in range(1, n + 1):
        shutil.copy(FIG / "images" / f"{i}.png", root / "images" / f"{i}.png")
        shutil.copy(FIG / "masks" / f"{i}.png", root / "masks" / f"{i}.png")
    f = Folder("figshare", root)
    img, msk, meta = root / "images", root / "masks", root / "metadata.csv"
    if plant:
        _truncate(img / "2.png")
        m = _read(msk / "3.png")
        m[0, 0] = 128
        cv2.imwrite(str(msk / "3.png"), m)
        small = cv2.resize(_read(msk / "4.png"), (200, 200), interpolation=cv2.INTER_NEAREST)
        cv2.imwrite(str(msk / "4.png"), small)
        cv2.imwrite(str(img / "5.png"), _rgba(_read(img / "5.png")))
        cv2.imwrite(str(msk / "6.png"), ((_read(msk / "6.png") > 0) * 65535).astype(np.uint16))
        (img / "notes.txt").write_text("exported 2015\n")
        keep.append(keep[0])  # a duplicated row (line 10): slice 1 listed twice
        row = keep[6].split(",")  # slice 7 (line 8): cv_fold 0
        keep[6] = ",".join([*row[:3], "0"])
        f.faults = {
            img / "2.png": TRUNC,
            msk / "3.png": MASKVAL,
            msk / "4.png": SIZE,
            img / "5.png": ALPHA,
            msk / "6.png": MASKVAL,
            img / "notes.txt": STRAY,
            Path(f"{meta}:10"): r"listed again",
            Path(f"{meta}:8"): r"fold",
        }
    meta.write_text("\n".join([rows[0], *keep]) + "\n")
    f.healthy = _rest(root, f.faults)
    return f


def build_class_folders(tmp: Path, *, plant: bool = True) -> Folder:
    """Class folders: Kaggle 4-class JPEGs and Br35H "no tumour" JPEGs."""
    root = tmp / "class-folders"
    files: list[Path] = []
    for cls in ("glioma", "meningioma", "pituitary"):
        (root / cls).mkdir(parents=True)
        for src in sorted((KAGGLE4 / cls).glob("*.jpg"))[:3]:
            files.append(root / cls / src.name)
            shutil.copy(src, files[-1])
    (root / "notumor").mkdir()
    for src in sorted(BR35H.glob("*.jpg"))[:2]:
        files.append(root / "notumor" / src.name)
        shutil.copy(src, files[-1])
    f = Folder("class-folders", root)
    if plant:
        g, m, p = root / "glioma", root / "meningioma", root / "pituitary"
        trunc, cut, zero = files[0], files[1], files[3]
        _truncate(trunc, 0.5)
        _cut_middle(cut)
        zero.write_bytes(b"")
        grey = _read(files[6])
        grey = grey[..., 0] if grey.ndim == 3 else grey
        cv2.imwrite(str(p / "overlay.png"), _rgba(grey))
        (g / "extra").mkdir()
        shutil.copy(files[2], g / "extra" / "copy.jpg")
        (p / "readme.txt").write_text("pituitary scans\n")
        _dangling(m / "gone.jpg")
        (root / "no_tumor").mkdir()  # collides with notumor/: both folders are named
        shutil.copy(sorted(BR35H.glob("*.jpg"))[5], root / "no_tumor" / "x.jpg")
        f.faults = {
            trunc: TRUNC,
            cut: r"damaged JPEG|Corrupt JPEG|premature|Huffman",
            zero: r"empty|0 bytes|0-byte",
            p / "overlay.png": ALPHA,
            g / "extra": SUBDIR,
            p / "readme.txt": STRAY,
            m / "gone.jpg": LINK,
            root / "notumor": r"no_tumor/ and notumor/ both name",
        }
    f.healthy = _rest(root, f.faults)
    return f


def build_lgg(tmp: Path, *, plant: bool = True) -> Folder:
    """LGG: two real patient folders with X.tif + X_mask.tif slices."""
    root = tmp / "lgg"
    patients = sorted(p for p in LGG.iterdir() if p.is_dir())[:2]
    slices: list[tuple[Path, Path]] = []
    for patient in patients:
        (root / patient.name).mkdir(parents=True)
        masks = sorted(patient.glob("*_mask.tif"), key=lambda q: int(q.stem.split("_")[-2]))
        for mask in masks[10:14] if patient == patients[0] else masks[10:13]:
            image = mask.with_name(mask.name.replace("_mask", ""))
            pair = (root / patient.name / image.name, root / patient.name / mask.name)
            shutil.copy(image, pair[0])
            shutil.copy(mask, pair[1])
            slices.append(pair)
    f = Folder("lgg", root)
    if plant:
        (i0, _), (i1, m1), (i2, _), (_, m3), (i4, _) = slices[:5]
        _truncate(i0, 0.5)
        m1.unlink()
        page = _read(i2)
        i2.write_bytes(_tiff(np.stack([page, page])))
        nan = _read(i4).astype(np.float32)
        nan[5, 5] = np.nan
        i4.write_bytes(_tiff(nan, photometric="rgb"))
        m = _read(m3)
        m[0, :3] = (1, 2, 3)
        m3.write_bytes(_tiff(m, photometric="minisblack"))
        stray = i4.parent / "notes.xlsx"
        stray.write_bytes(b"PK\x03\x04")
        link = i4.parent / f"{i4.parent.name}_99.tif"
        _dangling(link)
        f.faults = {
            i0: TRUNC,
            i1: MISSING_MASK,
            i2: r"pages",
            m3: MASKVAL,
            i4: r"NaN",
            stray: STRAY,
            link: LINK,
        }
    f.healthy = _rest(root, f.faults)
    return f


def build_pairs(tmp: Path, *, plant: bool = True) -> Folder:
    """Generic pairs: images/ + masks/ of real Figshare slices and a real LGG TIFF pair."""
    root = tmp / "pairs"
    img, msk = root / "images", root / "masks"
    img.mkdir(parents=True)
    msk.mkdir()
    real = sorted((FIG / "images").glob("*.png"), key=lambda q: int(q.stem))[20:29]
    for i, src in zip(range(20, 27), real, strict=False):
        shutil.copy(src, img / f"s{i}.png")
        shutil.copy(FIG / "masks" / src.name, msk / f"s{i}.png")
    tif, tif_mask = next(
        (m.with_name(m.name.replace("_mask", "")), m)
        for m in sorted(sorted(LGG.iterdir())[0].glob("*_mask.tif"))
    )
    shutil.copy(tif, img / "t1.tif")
    shutil.copy(tif_mask, msk / "t1.tif")
    f = Folder("pairs", root)
    if plant:
        (img / "s20.png").write_bytes(b"")
        cv2.imwrite(str(msk / "s21.png"), ((_read(msk / "s21.png") > 0) * 65535).astype(np.uint16))
        cv2.imwrite(str(img / "s22.png"), _rgba(_read(img / "s22.png"), alpha=0))
        (msk / "s23.png").unlink()
        shutil.copy(FIG / "masks" / real[7].name, msk / "orphan.png")
        (img / "old").mkdir()
        shutil.copy(real[8], img / "old" / "s31.png")
        g, gm = _read(img / "s24.png"), _read(msk / "s24.png")
        (img / "s24.png").unlink()
        (msk / "s24.png").unlink()
        (img / "s24.tif").write_bytes(
            _tiff(np.dstack([g, g]), photometric="minisblack", planarconfig="contig")
        )
        (msk / "s24.tif").write_bytes(_tiff(gm, photometric="minisblack"))
        data = (img / "s25.png").read_bytes()  # damaged compressed data, still ends in IEND
        k = len(data) // 2
        (img / "s25.png").write_bytes(
            data[:k] + bytes(b ^ 0x5A for b in data[k : k + 64]) + data[k + 64 :]
        )
        f.faults = {
            img / "s20.png": r"empty|0 bytes",
            msk / "s21.png": MASKVAL,
            img / "s22.png": ALPHA,
            img / "s23.png": MISSING_MASK,
            msk / "orphan.png": r"without (an|its) image|no image",
            img / "old": SUBDIR,
            img / "s24.tif": r"channel|samples",
            img / "s25.png": TRUNC,
        }
    f.healthy = _rest(root, f.faults)
    return f


def build_nifti(tmp: Path, *, plant: bool = True) -> Folder:
    """NIfTI: TCIA patient folders, a real T1 volume and its mask each (cropped to 6 slices)."""
    nib = pytest.importorskip("nibabel")
    root = tmp / "nifti"
    f = Folder("nifti", root)
    volumes = {}
    for pid in ("01", "02", "03", "04", "05"):
        (root / pid).mkdir(parents=True)
        img = nib.load(str(TCIA / pid / "Pre_Scan_T1.nii.gz"))
        msk = nib.load(str(TCIA / pid / "Pre_Mask.nii.gz"))
        tumour = np.flatnonzero(np.asarray(msk.dataobj).sum(axis=(0, 1)) > 0)
        k = max(int(tumour[len(tumour) // 2]) - 3, 0)
        img, msk = img.slicer[:, :, k : k + 6], msk.slicer[:, :, k : k + 6]
        volumes[pid] = (img, msk)
    image = {pid: root / pid / "Pre_Scan_T1.nii.gz" for pid in volumes}
    mask = {pid: root / pid / "Pre_Mask.nii.gz" for pid in volumes}
    if plant:
        img, msk = volumes["01"]  # mask mirrored left-right in world space
        a = msk.affine.copy()
        a[0, :] = -a[0, :]
        volumes["01"] = (img, nib.Nifti1Image(np.asarray(msk.dataobj), a))
        img, msk = volumes["02"]  # a NaN voxel
        data = np.asarray(img.dataobj, np.float32).copy()
        data[100, 100, 2] = np.nan
        volumes["02"] = (nib.Nifti1Image(data, img.affine), msk)
        img, msk = volumes["03"]  # a soft (0.5) mask
        volumes["03"] = (
            img,
            nib.Nifti1Image(np.asarray(msk.dataobj, np.float32) * 0.5, msk.affine),
        )
    for pid, (img, msk) in volumes.items():
        nib.save(img, str(image[pid]))
        nib.save(msk, str(mask[pid]))
    if plant:
        _truncate(mask["04"], 0.5)
        mask["05"].unlink()
        f.faults = {
            mask["01"]: r"affine",
            image["02"]: r"NaN",
            mask["03"]: MASKVAL,
            mask["04"]: TRUNC,
            image["05"]: MISSING_MASK,
        }
    # a sixth, healthy patient is always there
    (root / "06").mkdir()
    for name in ("Pre_Scan_T1.nii.gz", "Pre_Mask.nii.gz"):
        nib.save(nib.load(str(TCIA / "06" / name)).slicer[:, :, 8:12], str(root / "06" / name))
    f.healthy = _rest(root, f.faults)
    return f


def build_brats(tmp: Path, *, plant: bool = True) -> Folder:
    """BraTS slices: 4-sequence PNGs (4 channels are expected here) + colour masks."""
    root = tmp / "brats-slices"
    img, msk = root / "images", root / "masks"
    img.mkdir(parents=True)
    msk.mkdir()
    names = [p.stem for p in sorted((BRATS / "images").glob("*.png"))[:7]]
    for n in names:
        shutil.copy(BRATS / "images" / f"{n}.png", img / f"{n}.png")
        shutil.copy(BRATS / "masks" / f"{n}_mask.png", msk / f"{n}_mask.png")
    f = Folder("brats-slices", root)
    if plant:
        a, b, c, d, e = names[:5]
        _truncate(img / f"{a}.png", 0.7)
        m = _read(msk / f"{b}_mask.png")
        m[3, 3] = (128, 128, 0)
        cv2.imwrite(str(msk / f"{b}_mask.png"), m)
        (msk / f"{c}_mask.png").unlink()
        small = _read(msk / f"{d}_mask.png")[:200, :200]
        cv2.imwrite(str(msk / f"{d}_mask.png"), small)
        (msk / f"{e}_mask.png").write_bytes(b"")
        (img / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0")
        f.faults = {
            img / f"{a}.png": TRUNC,
            msk / f"{b}_mask.png": r"colour|color|value",
            img / f"{c}.png": MISSING_MASK,
            msk / f"{d}_mask.png": SIZE,
            msk / f"{e}_mask.png": r"empty|0 bytes",
            img / "Thumbs.db": STRAY,
        }
    f.healthy = _rest(root, f.faults)
    return f


BUILDERS: dict[str, Callable[..., Folder]] = {
    "figshare": build_figshare,
    "class-folders": build_class_folders,
    "lgg": build_lgg,
    "pairs": build_pairs,
    "nifti": build_nifti,
    "brats-slices": build_brats,
}


# ------------------------------------------------------------------------ the checks


def _names(problem_path: str, problem: str, target: Path) -> bool:
    t = str(target)
    return (
        problem_path == t
        or problem_path.startswith(t + ":")  # metadata.csv:<line>
        or any(f"{t}{sep}" in problem for sep in (":", ", line"))
    )


def _assert_report(folder: Folder, problems: list[dict[str, str]]) -> None:
    for target, kind in folder.faults.items():
        hits = [p for p in problems if _names(p["path"], p["problem"], target)]
        assert hits, f"{target} ({kind}) not reported; problems: {problems}"
        assert any(re.search(kind, p["problem"], re.I) for p in hits), (target, kind, hits)
    for good in folder.healthy:
        bad = [p for p in problems if _names(p["path"], p["problem"], good)]
        assert not bad, f"healthy {good} reported: {bad}"
    explained = [
        p for p in problems if any(_names(p["path"], p["problem"], t) for t in folder.faults)
    ]
    assert len(explained) == len(problems), [p for p in problems if p not in explained]


@pytest.mark.parametrize("fmt", list(BUILDERS))
def test_check_reports_every_planted_fault(fmt: str, tmp_path: Path, capsys) -> None:
    folder = BUILDERS[fmt](tmp_path)
    assert len(folder.faults) >= 4
    report = check(folder.format, folder.root, progress=False)
    assert not report.ok
    api = [p.to_dict() for p in report.problems]
    _assert_report(folder, api)
    # the command line: text on standard output, the same problems as JSON, exit code 1
    out = tmp_path / "report.json"
    code = main(["data", "check", "-q", "--format", fmt, str(folder.root), "--json", str(out)])
    captured = capsys.readouterr()
    assert code == 1, captured
    assert "Traceback" not in captured.out + captured.err
    assert f"problems: {len(api)}" in captured.out
    for target in folder.faults:
        assert f"{target}:" in captured.out, (target, captured.out)
    d = json.loads(out.read_text())
    assert d["problems"] == api
    _assert_report(folder, d["problems"])


@pytest.mark.parametrize("fmt", list(BUILDERS))
def test_clean_folder_has_no_problem(fmt: str, tmp_path: Path, capsys) -> None:
    folder = BUILDERS[fmt](tmp_path, plant=False)
    report = check(folder.format, folder.root, progress=False)
    assert report.ok, report.problems
    assert report.n_items > 0
    assert main(["data", "check", "-q", "--format", fmt, str(folder.root)]) == 0
    assert "problems: 0" in capsys.readouterr().out


@pytest.mark.parametrize("fmt", list(BUILDERS))
def test_missing_folder_fails_the_command(fmt: str, tmp_path: Path, capsys) -> None:
    with pytest.raises(ReadError, match="nope"):
        check(fmt, tmp_path / "nope")
    assert main(["data", "check", "--format", fmt, str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert "neuroseg: error:" in err and "nope" in err and "Traceback" not in err


def test_brats_four_channels_are_not_transparency(tmp_path: Path) -> None:
    """BraTS' 4th sequence has zeros like an alpha channel: not a problem there, but the
    same file in a class folder (RGBA with transparency) is one."""
    folder = build_brats(tmp_path, plant=False)
    first = folder.root / "images" / "1.png"
    assert first.suffix == ".png" and _read(first).shape[-1] == 4
    assert _read(first)[..., 3].min() < 255  # looks transparent
    assert check("brats-slices", folder.root, progress=False).ok
    cls = tmp_path / "cls" / "glioma"
    cls.mkdir(parents=True)
    shutil.copy(first, cls / "b.png")
    shutil.copy(FIG / "images" / "9.png", cls / "ok.png")
    report = check("class-folders", cls.parent, progress=False)
    assert [Path(p.path).name for p in report.problems] == ["b.png"], report.problems
    assert re.search(ALPHA, report.problems[0].problem, re.I)
    # fully opaque RGBA is fine
    cv2.imwrite(str(cls / "b.png"), _rgba(_read(FIG / "images" / "9.png")[..., None][..., 0], 255))
    assert check("class-folders", cls.parent, progress=False).ok
