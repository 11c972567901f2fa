import cv2
import numpy as np
import pytest

from neuroseg.data import read_image, read_mask, write_image
from neuroseg.errors import ChannelError, MaskError, NeurosegError, ReadError, WriteError


def _png(path, array):
    assert cv2.imwrite(str(path), array)
    return path


def test_read_grey_and_rgb(tmp_path):
    grey = _png(tmp_path / "g.png", np.arange(12, dtype=np.uint8).reshape(3, 4))
    assert read_image(grey).shape == (3, 4, 1)
    bgr = np.zeros((2, 2, 3), np.uint8)
    bgr[..., 0] = 255  # blue in OpenCV's order
    rgb = read_image(_png(tmp_path / "c.png", bgr))
    assert rgb[0, 0].tolist() == [0, 0, 255]


def test_missing_file_names_it(tmp_path):
    with pytest.raises(ReadError, match="nope.png"):
        read_image(tmp_path / "nope.png")


def test_truncated_png_is_refused(tmp_path, figshare_root):
    data = (figshare_root / "images" / "1.png").read_bytes()
    bad = tmp_path / "trunc.png"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ReadError, match="trunc.png.*truncated"):
        read_image(bad)


def test_truncated_jpeg_is_refused(tmp_path, shared_data):
    src = sorted((shared_data / "br35h-no-tumor").glob("*.jpg"))[0]
    bad = tmp_path / "trunc.jpg"
    bad.write_bytes(src.read_bytes()[:2000])
    with pytest.raises(ReadError, match="trunc.jpg"):
        read_image(bad)


def test_garbage_file_is_refused(tmp_path):
    bad = tmp_path / "x.tif"
    bad.write_bytes(b"not an image at all")
    with pytest.raises(NeurosegError, match="x.tif"):
        read_image(bad)


def test_channel_check(tmp_path):
    path = _png(tmp_path / "c.png", np.dstack([np.arange(4, dtype=np.uint8).reshape(2, 2)] * 3))
    assert read_image(path, channels=1).shape == (2, 2, 1)  # identical channels are grey
    rgb = _png(tmp_path / "rgb.png", np.random.default_rng(0).integers(0, 255, (2, 2, 3), np.uint8))
    with pytest.raises(ChannelError, match="rgb.png"):
        read_image(rgb, channels=1)


def test_mask_values_and_shape(tmp_path):
    m = np.zeros((4, 4), np.uint8)
    m[1:3, 1:3] = 255
    path = _png(tmp_path / "m.png", m)
    assert read_mask(path).sum() == 4
    with pytest.raises(MaskError, match=r"m.png: mask is 4x4 but its image is 5x5"):
        read_mask(path, shape=(5, 5))
    m[0, 0] = 128
    bad = _png(tmp_path / "bad.png", m)
    with pytest.raises(MaskError, match=r"bad.png.*\{128\}"):
        read_mask(bad)


def test_a_png_decoder_error_goes_into_the_message_not_the_terminal(tmp_path, figshare_root, capfd):
    raw = bytearray((figshare_root / "images" / "1.png").read_bytes())
    raw[raw.index(b"IDAT") + 10] ^= 0xFF  # damaged compressed data; the file still ends in IEND
    bad = tmp_path / "bad.png"
    bad.write_bytes(bytes(raw))
    with pytest.raises(ReadError, match=r"bad\.png: cannot decode.*libpng error"):
        read_image(bad)
    assert "libpng" not in capfd.readouterr().err


# ---------------------------------------------------------------- write_image


@pytest.mark.parametrize(
    ("name", "image"),
    [
        ("grey.png", np.arange(12, dtype=np.uint8).reshape(3, 4)),
        ("grey1.png", np.arange(12, dtype=np.uint8).reshape(3, 4, 1)),
        ("rgb.png", np.arange(36, dtype=np.uint8).reshape(3, 4, 3)),
        ("rgba.png", np.arange(48, dtype=np.uint8).reshape(3, 4, 4)),
        ("deep.png", np.arange(12, dtype=np.uint16).reshape(3, 4) * 5000),
        ("deep.tif", np.arange(12, dtype=np.uint16).reshape(3, 4) * 5000),
        ("float.tif", np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)),
        ("rgb.bmp", np.arange(36, dtype=np.uint8).reshape(3, 4, 3)),
    ],
)
def test_write_image_round_trips_through_read_image(tmp_path, name, image):
    path = write_image(tmp_path / "sub" / name, image)
    assert path == tmp_path / "sub" / name
    back = read_image(path)
    expected = image if image.ndim == 3 else image[..., None]
    assert back.dtype == image.dtype
    np.testing.assert_array_equal(back, expected)  # RGB stays RGB, not BGR
    assert [p.name for p in path.parent.iterdir()] == [name]  # no temporary file left


def test_write_image_keeps_rgb_order(tmp_path):
    red = np.zeros((2, 2, 3), np.uint8)
    red[..., 0] = 255
    path = write_image(tmp_path / "red.png", red)
    assert cv2.imread(str(path))[0, 0].tolist() == [0, 0, 255]  # OpenCV reads BGR


@pytest.mark.parametrize(
    ("name", "image", "match"),
    [
        ("x.gif", np.zeros((2, 2), np.uint8), r"x\.gif: cannot write a \.gif file"),
        ("x", np.zeros((2, 2), np.uint8), "suffix-less"),
        ("x.png", np.zeros((2, 2), np.float32), "PNG cannot hold float32"),
        ("x.jpg", np.zeros((2, 2), np.uint16), "JPEG cannot hold uint16"),
        ("x.png", np.zeros((2, 2), bool), "PNG cannot hold bool"),
        ("x.png", np.zeros((2, 2, 2), np.uint8), r"shape \(2, 2, 2\)"),
        ("x.png", np.zeros((2,), np.uint8), r"shape \(2,\)"),
        ("x.tif", np.full((2, 2), np.nan, np.float32), "NaN or infinite"),
    ],
)
def test_write_image_refuses_what_the_format_cannot_hold(tmp_path, name, image, match):
    with pytest.raises(WriteError, match=match):
        write_image(tmp_path / name, image)
    assert list(tmp_path.iterdir()) == []


def test_write_image_names_the_file_when_the_folder_cannot_be_made(tmp_path):
    blocker = tmp_path / "taken"
    blocker.write_text("a file, not a folder")
    with pytest.raises(WriteError, match=r"taken/out\.png: cannot write the file") as info:
        write_image(blocker / "out.png", np.zeros((2, 2), np.uint8))
    assert isinstance(info.value, NeurosegError) and isinstance(info.value, OSError)
    assert blocker.read_text() == "a file, not a folder"


def test_write_image_replaces_an_existing_file_whole(tmp_path):
    path = write_image(tmp_path / "x.png", np.zeros((8, 8), np.uint8))
    write_image(path, np.full((2, 3), 7, np.uint8))
    np.testing.assert_array_equal(read_image(path), np.full((2, 3, 1), 7, np.uint8))
