import keras
import numpy as np
import pytest

from neuroseg.data import CLASS_NAMES, load_sample
from neuroseg.errors import ConfigError
from neuroseg.metrics import DiceBCELoss
from neuroseg.models import MultiTaskResUNet, NoTumorConsistency, create_model, no_tumor_consistency


def test_no_tumor_consistency_values():
    assert CLASS_NAMES[2] == "no_tumor"
    empty = np.zeros((2, 4, 4, 1), "float32")
    tumour = empty.copy()
    tumour[:, 1, 1, 0] = 1.0
    no_tumor = np.eye(4, dtype="float32")[[2, 2]]
    glioma = np.eye(4, dtype="float32")[[0, 0]]
    assert float(no_tumor_consistency(empty, no_tumor)) == 0.0
    assert float(no_tumor_consistency(tumour, glioma)) == 0.0
    assert float(no_tumor_consistency(tumour, no_tumor)) == 1.0
    assert float(no_tumor_consistency(empty, glioma)) == 1.0
    half = np.full((2, 4), 0.25, "float32")  # p(no tumour) = 0.25 -> tumour score 0.75
    np.testing.assert_allclose(float(no_tumor_consistency(tumour * 0.5, half)), 0.0625)
    # multi-class masks: foreground = 1 - background probability
    soft = np.concatenate([1 - tumour, tumour], axis=-1)
    assert float(no_tumor_consistency(soft, glioma)) == 0.0


def test_outputs_named_like_the_pipeline():
    m = MultiTaskResUNet(input_shape=(32, 32, 1), depth=2, base_filters=4)
    out = m(np.zeros((3, 32, 32, 1), "float32"))
    assert set(out) == {"mask", "label"}
    assert out["mask"].shape == (3, 32, 32, 1) and out["label"].shape == (3, 4)
    assert "consistency" not in {layer.name for layer in m.layers}
    with pytest.raises(ConfigError):
        MultiTaskResUNet(input_shape=(32, 32, 1), depth=2, num_classes=2, no_tumor_index=2)


def test_consistency_term_is_added_to_the_loss():
    m = MultiTaskResUNet(input_shape=(32, 32, 1), depth=2, base_filters=4, consistency_weight=2.0)
    x = np.random.default_rng(0).random((2, 32, 32, 1), dtype=np.float32)
    out = m(x)
    assert len(m.losses) == 1
    expected = 2.0 * float(no_tumor_consistency(out["mask"], out["label"]))
    np.testing.assert_allclose(float(m.losses[0]), expected, rtol=1e-5)
    assert isinstance(m.get_layer("consistency"), NoTumorConsistency)


@pytest.mark.slow
def test_multitask_trains_on_real_sample():
    ds = load_sample().to_tf_dataset("multitask", image_size=32, batch_size=8)
    _, y = next(iter(ds))
    assert set(y) == {"mask", "label"}
    m = create_model("multitask-base", input_shape=(32, 32, 1), base_filters=8, depth=2)
    m.compile(
        keras.optimizers.Adam(1e-3),
        loss={"mask": DiceBCELoss(), "label": "sparse_categorical_crossentropy"},
    )
    hist = m.fit(ds, epochs=4, verbose=0, shuffle=False)
    assert np.isfinite(hist.history["loss"]).all()
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert {"mask_loss", "label_loss"} <= set(hist.history)
