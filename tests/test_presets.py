"""The paper profile must use the paper's §4.2 values exactly; the paper's text is the reference."""
import re
from pathlib import Path

import pytest

from amidlib.core.config import BASE, PRESETS, make_config
from amidlib.core.methods import METHODS

PAPER = Path(__file__).resolve().parents[2] / "shared" / "seed" / "000_ac9601c179f4155d.txt"

# §4.2, transcribed once: (preset, name) -> value
SECTION_4_2 = {
    ("paper_video", "dim"): 512, ("paper_video", "batch_size"): 16, ("paper_video", "tau"): 0.5,
    ("paper_video", "alpha1"): 4.0, ("paper_video", "alpha2"): 1.6, ("paper_video", "alpha3"): 1.0,
    ("paper_video", "warmup_epochs"): 20, ("paper_video", "beta"): 0.9,
    ("paper_iemocap", "dim"): 768, ("paper_iemocap", "batch_size"): 128, ("paper_iemocap", "tau"): 0.6,
    ("paper_iemocap", "warmup_epochs"): 5, ("paper_iemocap", "beta"): 0.9,
}


@pytest.mark.parametrize("preset,name", sorted(SECTION_4_2))
def test_paper_presets_match_section_4_2(preset, name):
    # τ, α, β are AMID's values (AMID.defaults): the preset sets them for AMID's runs
    assert make_config(METHODS["amid"].defaults, preset=preset)[name] == SECTION_4_2[(preset, name)]


def test_transcription_matches_the_paper_text():
    if not PAPER.exists():
        pytest.skip("paper text not present")
    text = " ".join(PAPER.read_text().split())
    assert "The dimension of the representations is set to 512" in text
    assert "The batch size and temperature τ are set to 16 and 0.5" in text
    assert re.search(r"alpha_1, \\alpha_2, \\alpha_3\$ are set to 4, 1.6, 1", text)
    assert "final feature dimension of 768" in text
    assert "The batch size and temperature τ are set to 128 and 0.6" in text
    assert "T_{start} is set to 20 for the video understanding tasks and 5 for the emotion classification task" in text
    assert "we set $\\beta = 0.9$" in text


def test_paper_presets_use_leaky_relu_and_the_paper_architecture():
    from torch import nn

    from amidlib.core.models import build_nets, discriminator

    nets = build_nets(10, 12, 5, dim=512, hidden=512)
    assert not any(isinstance(m, nn.ReLU) for m in nets.modules())
    assert sum(isinstance(m, nn.Linear) for m in discriminator(512, 128, 5)) == 5  # D1: 5-layer MLP
    assert sum(isinstance(m, nn.Linear) for m in discriminator(512, 128, 3)) == 3  # D2: 3-layer MLP
    assert sum(isinstance(m, nn.Linear) for m in nets.teacher_head) == 2           # M: 2-layer MLP


def test_every_preset_names_known_values():
    """A preset value applies only where the run has the name: a name no method has would silently do nothing."""
    known = set(BASE).union(*(cls.defaults for cls in METHODS.values()))
    for name, preset in PRESETS.items():
        unknown = set(preset) - known
        assert not unknown, (name, unknown)
    for cls in METHODS.values():  # a method's own values per preset name presets that exist
        assert set(getattr(cls.defaults, "presets", {})) <= set(PRESETS), cls.name


def test_no_name_is_both_a_preset_and_a_profile():
    """A name means one value set: profile ci runs preset tiny with 8 epochs, so they are not both 'ci'."""
    from amidlib.repro.profiles import PROFILES

    assert not set(PRESETS) & set(PROFILES)
    with pytest.raises(ValueError, match="now called 'tiny'"):
        make_config(preset="ci")


def test_a_preset_value_never_reaches_another_methods_value_of_the_same_name():
    """A new method with its own τ = 0.1 (the name AMID uses) keeps it under the paper presets, where AMID gets the
    paper's τ; a preset holds only the shared config's names, so nothing else can leak either."""
    from amidlib.core.method import Defaults

    assert all(set(values) <= set(BASE) for values in PRESETS.values()), "a preset may set only BASE's names"
    own = Defaults({"tau": 0.1, "alpha1": 0.0})
    for preset, tau in (("paper_video", 0.5), ("paper_iemocap", 0.6)):
        cfg = make_config(own, preset=preset)
        assert (cfg["tau"], cfg["alpha1"]) == (0.1, 0.0), preset
        amid = make_config(METHODS["amid"].defaults, preset=preset)
        assert (amid["tau"], amid["alpha1"], amid["alpha2"], amid["alpha3"], amid["beta"]) == (tau, 4.0, 1.6, 1.0, 0.9)


def test_a_methods_own_values_are_its_own():
    """AMID's τ, α, switches are AMID's (not a baseline's); CRCD's K per preset is CRCD's; an override naming
    another method's value is refused, naming that method; a value outside its choices is refused."""
    amid, crd, crcd = (METHODS[m].defaults for m in ("amid", "crd", "crcd"))
    assert "tau" not in make_config(crd, preset="paper_iemocap") and "alpha1" not in BASE
    assert make_config(amid, preset="paper_iemocap")["tau"] == 0.6 and make_config(amid, preset=None)["tau"] == 0.5
    with pytest.raises(TypeError, match="'alpha1' is a value of method amid"):
        make_config(crd, preset="tiny", alpha1=1.0)
    with pytest.raises(TypeError, match="unknown config override 'crd_nce_k'"):
        make_config(amid, preset="tiny", crd_nce_k=5)
    for preset, k in (("tiny", 64), ("embedded", 64), ("embedded_pairs", 64), ("paper_video", 500), (None, 500)):
        assert make_config(crcd, preset=preset)["crcd_nce_k"] == k, preset
    assert make_config(crcd, preset="tiny", crcd_nce_k=32)["crcd_nce_k"] == 32  # an override wins over the preset's
    assert "crcd_nce_k" not in make_config(crd, preset="tiny")
    with pytest.raises(ValueError, match="mi_loss must be 'mi' or 'nce'"):
        make_config(amid, preset="tiny", mi_loss="jsd")
    with pytest.raises(ValueError, match="optimizer must be"):
        make_config(crd, preset="tiny", optimizer="lamb")
