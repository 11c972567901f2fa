"""``neuroseg.inference.pictures``: titles stand above a picture, never on it; ``save_png``
writes what it is given or raises."""

from __future__ import annotations

import numpy as np
import pytest

from neuroseg.data import read_image
from neuroseg.errors import WriteError
from neuroseg.inference import save_png, title_strip


def test_title_strip_stands_above_the_picture():
    rgb = np.random.default_rng(0).integers(0, 255, (120, 90, 3), dtype=np.uint8)
    before = rgb.copy()
    one = title_strip(rgb, "a title")
    two = title_strip(rgb, ["a title", "a second line"])
    assert np.array_equal(rgb, before)  # the input is not drawn on
    for pic in (one, two):
        strip = pic.shape[0] - rgb.shape[0]
        assert pic.shape[1:] == rgb.shape[1:] and strip > 0
        assert np.array_equal(pic[strip:], rgb)  # the picture's last rows are the image
        assert (pic[:strip] > 128).any()  # white text on black
    assert two.shape[0] - 120 > one.shape[0] - 120  # one line of the strip per string


def test_save_png_scales_a_float_picture_by_its_range_instead_of_clipping(tmp_path):
    grey = np.array([[0.0, 350.0], [700.0, 1400.0]], np.float32)  # beyond 8 bits
    path = save_png(tmp_path / "p.png", grey, scale=2)
    back = read_image(path)
    assert back.shape == (4, 4, 3)
    assert back[::2, ::2, 0].tolist() == [[0, 64], [128, 255]]  # 255 * v / 1400, rounded


def test_save_png_raises_write_error_naming_the_file(tmp_path):
    (tmp_path / "taken").write_text("")
    with pytest.raises(WriteError, match=r"taken/p\.png"):
        save_png(tmp_path / "taken" / "p.png", np.zeros((2, 2, 3), np.uint8))
