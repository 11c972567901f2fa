"""``title_strip``: titles stand above a picture, never on it."""

from __future__ import annotations

import numpy as np

from neuroseg.inference import title_strip


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
