import numpy as np
import pytest

from neuroseg.metrics import DiceBCELoss, DiceLoss, dice_bce_loss, dice_loss


def test_dice_loss_hand_computed():
    t = np.array([[[[1.0], [1.0], [0.0], [0.0]]]], "float32")
    p = np.array([[[[1.0], [0.5], [0.5], [0.0]]]], "float32")
    # inter = 1.5, sums = 2 + 2 -> 1 - 3/4
    assert float(dice_loss(t, p, smooth=0.0)[0]) == pytest.approx(0.25)
    assert float(dice_loss(np.zeros_like(t), np.zeros_like(p))[0]) == pytest.approx(0.0)


def test_logits_and_classes_agree():
    rng = np.random.default_rng(0)
    t = (rng.random((3, 4, 4, 1)) > 0.5).astype("float32")
    logits = rng.normal(size=(3, 4, 4, 1)).astype("float32")
    probs = 1 / (1 + np.exp(-logits))
    np.testing.assert_allclose(
        np.asarray(dice_bce_loss(t, logits, from_logits=True)),
        np.asarray(dice_bce_loss(t, probs)),
        rtol=1e-4,
    )
    assert float(DiceLoss()(t, probs)) == pytest.approx(
        float(np.mean(dice_loss(t, probs))), rel=1e-6
    )
    assert float(DiceBCELoss()(t, probs)) > float(DiceLoss()(t, probs))
