"""The content model's artefact is what HEAD builds, and scores only the features it
was trained on; the cross-corpus evaluation measures what it claims to."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from conftest import shared_datasets
from rebuilds import differences
from spimguard import load_config
from spimguard.detectors.content import ContentDetector
from spimguard.errors import ConfigError
from spimguard.model import crosscorpus, datasets, scorer
from spimguard.model import train as training
from spimguard.model.features import stamp
from spimguard.text import view
from test_content import HAM, SPAM


def _samples() -> list[datasets.Sample]:
    return [datasets.Sample(t, 1, "x") for t in SPAM] + [
        datasets.Sample(t, 0, "x") for t in HAM]


def test_bundled_model_is_what_head_builds() -> None:
    root = shared_datasets()
    if root is None:
        pytest.skip("the public datasets are not on this machine (set SPIMGUARD_DATASETS)")
    rebuilt = training.shipped(root)
    bundled = Path(str(scorer.resources.files("spimguard.model").joinpath(scorer.BUNDLED)))
    shipped = scorer.load(bundled)
    advice = ("the bundled model is not what HEAD builds: run `spimguard train --corpora "
              f"{root} --card src/spimguard/model/CARD.md` and commit both")
    # A rounding apart at most, never the same bytes by rule (``rebuilds``): the solver's
    # last digits follow the BLAS kernels the CPU selects, not only the library versions.
    assert not differences(
        {"weights": shipped.weights, "bias": shipped.bias, "card": shipped.card},
        {"weights": rebuilt.weights, "bias": rebuilt.bias, "card": rebuilt.card}), advice


def test_saving_is_byte_for_byte(tmp_path: Path) -> None:
    model = training.train(_samples(), bits=12)
    model.save(tmp_path / "a.npz")
    model.save(tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    assert scorer.load(tmp_path / "a.npz").card == json.loads(json.dumps(model.card))


def test_a_model_of_other_features_is_refused_at_load(tmp_path: Path) -> None:
    model = training.train(_samples(), bits=12)
    assert model.card["features"] == stamp()
    model.card["features"] = "1:0123456789abcdef"  # what an older features.py hashed
    model.save(tmp_path / "old.npz")
    with pytest.raises(ConfigError, match="Retrain"):
        scorer.load(tmp_path / "old.npz")


def test_the_detector_uses_the_models_thresholds_unless_the_operator_sets_them(
        tmp_path: Path) -> None:
    model = training.train(_samples(), bits=12)
    model.card["thresholds"] = {"warn_at": 0.3, "hold_at": 0.6, "block_at": 0.99}
    # Content evidence starts at the model's training base rate unless set.
    model.card["guard"] = {**model.card["guard"], "prior": float(np.log(0.1 / 0.9))}
    model.save(tmp_path / "m.npz")
    config = load_config(environ={})
    own = ContentDetector({"model": str(tmp_path / "m.npz")}, config)
    assert list(np.exp(own._x) / (1 + np.exp(own._x))) == pytest.approx(
        [0.1, 0.3, 0.6, 0.99])
    operator = ContentDetector({"model": str(tmp_path / "m.npz"), "hold_at": 0.7}, config)
    assert np.exp(operator._x[2]) / (1 + np.exp(operator._x[2])) == pytest.approx(0.7)


def test_the_guard_pulls_an_unseen_script_toward_the_prior() -> None:
    model = training.train(_samples(), bits=12)
    model.card["guard"] = {"knee": 0.5, "prior": -1.0, "density": 0.0}
    # Every feature of a Georgian text is unseen: its log-odds are the prior's.
    assert model.margin(np.array([4000, 4001], dtype=np.uint32)) == pytest.approx(-1.0)
    unseen = view("გამარჯობა, როგორ ხარ? ხვალ შევხვდეთ")
    assert model.probabilities([unseen])[0] == pytest.approx(model.probability(unseen))


def test_loco_drops_what_was_trained_on_and_halves_by_fingerprint(tmp_path: Path) -> None:
    thai = tmp_path / "thai"
    thai.mkdir()
    (thai / "a.txt").write_text("scam|เครดิตฟรี 100 บาท กดเลย\nOTP|รหัส OTP ของคุณคือ 1234\n"
                                "OTP|รหัส OTP ของคุณคือ 9876\nOK|ok see you at the station\n")
    janitr = tmp_path / "s.jsonl"
    janitr.write_text("\n".join(json.dumps(r) for r in (
        {"text": "claim the airdrop now", "labels": ["scam"]},
        {"text": "new podcast episode out", "labels": ["promo"]},
        {"text": "gm everyone", "labels": ["clean"]})))
    assert [s.spam for s in datasets.read(str(thai))] == [1, 0, 0, 0]
    assert [(s.text, s.spam) for s in datasets.read(str(janitr))] == [
        ("claim the airdrop now", 1), ("gm everyone", 0)]  # promotion: label unsure
    corpus = datasets.Corpus("thai-sms", "thai", "SMS", "th", "MIT", True)
    train = [datasets.Sample("ok see you at the station", 0, "uci-sms")]
    held = crosscorpus.score(corpus, corpus.load(tmp_path), train,
                             training.train(_samples() + train, bits=12))
    # The two OTP codes are one fingerprint; the chat line was trained on.
    assert sorted(held.labels.tolist()) == [0, 1]
    assert all(crosscorpus.half(view(t).fingerprint) in (0, 1) for t in SPAM)
    assert crosscorpus.half("abc") == crosscorpus.half("abc")


def _tiny_datasets(root: Path) -> Path:
    """Every corpus of ``datasets.CORPORA`` at its path, a few messages each."""
    def put(spec: str, text: str) -> None:
        path = root / spec.partition("=")[0]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")

    put(datasets.corpus("uci-sms").spec, "".join(f"spam\t{t}\n" for t in SPAM)
        + "".join(f"ham\t{t}\n" for t in HAM))
    put(datasets.corpus("mishra-sms").spec, "LABEL,TEXT\nSmishing,verify your bank login now"
        "\nham,see you soon\nspam,win a free cruise call 0800 123 456\nham,running late\n")
    put(datasets.corpus("indonesian-sms").spec, 'Teks,label\n"Selamat anda menang hadiah",1\n'
        '"nanti sore ketemu ya",0\n"Promo paket murah aktifkan sekarang",2\n"oke siap",0\n')
    put(datasets.corpus("thai-sms").spec + "/a.txt",
        "scam|เครดิตฟรี 100 บาท กดเลย\nOK|พรุ่งนี้เจอกันนะ\nspam|โปรโมชั่นพิเศษ สมัครเลย\n"
        "OTP|รหัส OTP ของคุณคือ 1234\n")
    put(datasets.corpus("janitr-x").spec, "\n".join(json.dumps(r) for r in (
        {"text": "claim the airdrop now, connect wallet", "labels": ["scam"]},
        {"text": "gm everyone", "labels": ["clean"]},
        {"text": "dm me for guaranteed 10x returns", "labels": ["spam"]},
        {"text": "bitcoin looks strong today", "labels": ["topic_crypto"]})))
    put(datasets.corpus("telegram-ru").spec, "Набираю в команду, доход от 5000 в день\n\n"
        "Есть подработка, пишите в лс\n")
    return root


def test_evaluate_prints_the_leave_one_corpus_out_table(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from spimguard.cli import app

    result = CliRunner().invoke(app, ["evaluate", "--loco", str(_tiny_datasets(tmp_path))])
    assert result.exit_code == 0, result.output
    for name in ("uci-sms", "thai-sms", "janitr-x", "telegram-ru", "mean, not English SMS"):
        assert name in result.stdout
    assert "never trained on" in result.stdout and "leave-one-corpus-out" in result.stdout


def test_the_reserved_half_of_janitr_never_trains_and_is_what_hard_ham_reads() -> None:
    posts = [datasets.Sample(f"gm frens, day {n} of building in public", 0, "janitr-x")
             for n in ("one", "two", "three", "four", "five", "six", "seven", "eight")]
    posts += [datasets.Sample(t, 1, "janitr-x") for t in SPAM]
    kept = crosscorpus.unseen_half(posts)
    assert 0 < len(kept) < len(posts)  # the hash splits them
    trained = crosscorpus.training_set({"janitr-x": posts})
    assert {s.text for s in trained}.isdisjoint(s.text for s in kept)
    assert len(trained) + len(kept) == len(posts)
    # The half is the fingerprint's: a personalised copy falls on the same side.
    assert crosscorpus.reserved(view("claim 500 USDT now").fingerprint) == (
        crosscorpus.reserved(view("claim 900 USDT now").fingerprint))


def test_a_rebuild_on_another_stack_may_differ_by_a_rounding_and_no_more() -> None:
    shipped = {"weights": np.array([0.5, -1.25], np.float16), "card": {
        "C": 30.0, "corpora": ["uci-sms"], "thresholds": {"hold_at": 0.998},
        "built_with": {"numpy": "1"}}}
    rounding = {"weights": np.array([0.5005, -1.25], np.float16), "card": {
        "C": 30.0, "corpora": ["uci-sms"], "thresholds": {"hold_at": 0.9982},
        "built_with": {"numpy": "2"}}}
    assert not differences(shipped, rounding)
    for changed in ({**rounding, "weights": np.array([0.6, -1.25], np.float16)},
                    {**rounding, "weights": np.array([0.5, -1.24], np.float16)},
                    {**rounding, "card": {**rounding["card"], "thresholds": {"hold_at": 0.989}}},
                    {**rounding, "card": {**rounding["card"], "C": 3.0}},
                    {**rounding, "card": {**rounding["card"], "corpora": ["thai-sms"]}},
                    {**rounding, "card": {"C": 30.0, "built_with": {}}},
                    {**rounding, "weights": np.array([0.5], np.float16)}):
        assert differences(shipped, changed)


def test_the_shipped_artefacts_say_which_numeric_stack_built_them() -> None:
    content = scorer.load(Path(str(scorer.resources.files("spimguard.model").joinpath(
        scorer.BUNDLED))))
    urls = json.loads(resources.files("spimguard.urlmodel").joinpath("urls.json").read_text())
    for recorded in (content.card["built_with"], urls["data"]["built_with"]):
        assert set(recorded) == {"numpy", "scipy", "scikit-learn"}
