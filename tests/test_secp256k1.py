"""secp256k1: coincurve's private binding (the fast path) and its public API (the fallback).

The binding is a private module of coincurve, so the library checks it at import and falls
back to the public API when it is absent or differs. These tests hold the two to the same
answers, run the recorded vectors through the public path, and force the fallback the ways a
coincurve release could cause it. Expected values come from coincurve's public API or from
integer arithmetic, never from the implementation under test.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap

import coincurve
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sphinxamp.errors import InvalidSecret
from sphinxamp.primitives import _secp256k1 as secp
from tests.strategies import CURVE_ORDER

BINDING = secp._binding()
scalars = st.integers(1, CURVE_ORDER - 1).map(lambda k: k.to_bytes(32, "big"))
points = scalars.map(lambda k: coincurve.PublicKey.from_secret(k).format())
IMPLEMENTATIONS = [secp._Public, BINDING] if BINDING is not None else [secp._Public]


def test_the_pinned_coincurve_runs_the_binding() -> None:
    """With the coincurve of requirements/test.lock the fast path is in use: if a coincurve
    upgrade silently moves every install to the fallback, this says so."""
    if os.environ.get("SPHINXAMP_SECP256K1") == "public":
        pytest.skip("the public path was asked for in the environment")
    assert BINDING is not None
    assert secp.BACKEND == "binding"


@pytest.mark.parametrize("impl", IMPLEMENTATIONS, ids=lambda i: str(i.name))
@given(secret=scalars, other=scalars)
def test_ecdh_and_public_key_match_coincurve(impl: secp._Binding, secret: bytes,
                                             other: bytes) -> None:
    point = coincurve.PublicKey.from_secret(other)
    parsed = impl.parse_point(point.format())
    assert parsed is not None
    assert impl.serialize_point(parsed) == point.format()
    assert impl.public_key(secret, "k") == coincurve.PublicKey.from_secret(secret).format()
    expected = hashlib.sha256(point.multiply(secret).format()).digest()
    assert impl.ecdh(secret, parsed, "k") == expected
    # Shared secrets are symmetric: the other side's view from its own key.
    mine = impl.parse_point(coincurve.PublicKey.from_secret(secret).format())
    assert impl.ecdh(other, mine, "k") == expected


@pytest.mark.parametrize("impl", IMPLEMENTATIONS, ids=lambda i: str(i.name))
@given(point=points, tweak=st.integers(1, 2**256 - 1))
def test_point_mul_reduces_the_tweak_mod_n(impl: secp._Binding, point: bytes,
                                           tweak: int) -> None:
    """A blinding factor at or above n is meant mod n (BOLT 4 › Blinding Ephemeral Onion Keys,
    as lightning-onion's `blindGroupElement` computes it)."""
    if tweak % CURVE_ORDER == 0:
        return
    parsed = impl.parse_point(point)
    result = impl.serialize_point(impl.point_mul(parsed, tweak.to_bytes(32, "big")))
    expected = coincurve.PublicKey(point).multiply((tweak % CURVE_ORDER).to_bytes(32, "big"))
    assert result == expected.format()
    assert impl.serialize_point(parsed) == point  # the input point is left as it was


@pytest.mark.parametrize("impl", IMPLEMENTATIONS, ids=lambda i: str(i.name))
@pytest.mark.parametrize("data", [b"", bytes(33), b"\x04" + bytes(32), b"\x02" + b"\xff" * 32,
                                  b"\x02" + bytes(31) + b"\x05", bytes(34)])
def test_invalid_points_parse_to_none(impl: secp._Binding, data: bytes) -> None:
    assert impl.parse_point(data) is None


@pytest.mark.parametrize("impl", IMPLEMENTATIONS, ids=lambda i: str(i.name))
@pytest.mark.parametrize(("secret", "reason"), [(bytes(31), "wrong_length"),
                                                (bytes(32), "invalid_secret"),
                                                (CURVE_ORDER.to_bytes(32, "big"),
                                                 "invalid_secret")])
def test_bad_secrets_are_refused_alike(impl: secp._Binding, secret: bytes, reason: str) -> None:
    point = impl.parse_point(coincurve.PublicKey.from_secret(b"\x01" * 32).format())
    with pytest.raises(InvalidSecret) as caught:
        impl.ecdh(secret, point, "node_key")
    assert caught.value.reason == reason
    with pytest.raises(InvalidSecret) as caught:
        impl.public_key(secret, "node_key")
    assert caught.value.reason == reason


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, env={**os.environ, **env}, timeout=120, check=False)


def test_the_public_path_passes_every_recorded_vector() -> None:
    """The whole vector check (Sphinx build and peel, blinding, failures) through the
    fallback, selected as a user would: by the environment."""
    done = subprocess.run([sys.executable, "-m", "sphinxamp", "vectors", "check"],
                          capture_output=True, text=True, timeout=300, check=False,
                          env={**os.environ, "SPHINXAMP_SECP256K1": "public"})
    assert done.returncode == 0, done.stderr
    assert " 0 failed" in done.stdout.splitlines()[-1]
    chosen = _run("import sphinxamp.primitives._secp256k1 as s; print(s.BACKEND)",
                  SPHINXAMP_SECP256K1="public")
    assert chosen.stdout.strip() == "public"


@pytest.mark.parametrize("sabotage", [
    # The private module gone under that name (a coincurve that renamed it: coincurve itself
    # loads, the name we import does not).
    "import coincurve; sys.modules['coincurve._libsecp256k1'] = None",
    # The module there, a function missing.
    "import coincurve._libsecp256k1 as m; m.lib = type('L', (), {})()",
])
def test_a_missing_or_different_binding_falls_back(sabotage: str) -> None:
    done = _run(f"""
        import sys
        {sabotage}
        import sphinxamp.primitives._secp256k1 as s
        from sphinxamp import process_hop
        print(s.BACKEND)
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "public"


def test_a_binding_with_wrong_answers_is_not_trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    """A binding that imports and has every function but computes something else."""
    if BINDING is None:
        pytest.skip("coincurve's private binding is not importable here")

    def wrong_create(ctx: object, out: object, secret: bytes) -> int:
        return int(BINDING._lib.secp256k1_ec_pubkey_create(ctx, out, (2).to_bytes(32, "big")))

    fake_lib = type("L", (), {name: getattr(BINDING._lib, name)
                              for name in secp._BINDING_FUNCTIONS})()
    fake_lib.secp256k1_ec_pubkey_create = wrong_create
    monkeypatch.setattr("coincurve._libsecp256k1.lib", fake_lib)
    assert secp._binding() is None
    assert secp.select("binding") is secp._Public
