"""libFuzzer dictionaries: the tokens every target shares (BigSize prefixes and boundaries,
BOLT 4 record types, packet sizes, failure codes) plus a few per target."""

from __future__ import annotations

from pathlib import Path

_COMMON = {
    "bigsize_fd": "fd", "bigsize_fe": "fe", "bigsize_ff": "ff", "max_1byte": "fc",
    "min_fd": "fd00fd", "max_fd": "fdffff", "min_fe": "fe00010000",
    "min_ff": "ff0000000100000000", "max_u64": "ffffffffffffffffff",
    "size_1300": "0514", "size_1266": "04f2", "size_32834": "8042", "size_1366": "0556",
    "hmac_zero": "00" * 32, "version_0": "00", "version_1": "01",
}
_PAYMENT_TYPES = {f"type_{t}": f"{t:02x}" for t in (2, 4, 6, 8, 10, 12, 14, 16, 18)}
_MESSAGE_TYPES = {"om_reply_path": "02", "om_encrypted_data": "04", "om_invoice_request": "40",
                  "om_invoice": "42", "om_invoice_error": "44"}
_ENCRYPTED_DATA_TYPES = {f"ed_type_{t}": f"{t:02x}" for t in (1, 2, 4, 6, 8, 10, 12, 14)}
_CUSTOM = {"keysend_type": "ff0000000146c6616c", "custom_start": "fe00010000"}
_FAILURE_CODES = ("2002", "6002", "c004", "c005", "c006", "1007", "4008", "400a", "100b", "100c",
                  "100d", "100e", "400f", "0012", "0013", "1014", "0015", "4016", "0017", "c018",
                  "8000")
_FAILURES = {f"failure_{c}": c for c in _FAILURE_CODES}
_POINTS = {"point_prefix_02": "02", "point_prefix_03": "03", "point_prefix_04": "04",
           "generator": "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"}

_EXTRA = {
    "tlv_typed": {"n1_tlv4": "fd00fe", "n1_tlv3": "03", "n2_tlv2": "0b", **_POINTS},
    "onion_packet": _POINTS,
    "peel_raw": {**_POINTS, "ad_len_32": "20", "flags_message": "01", "flags_blinded": "02"},
    "peel_reseal": {"flags_message": "01", "flags_blinded": "02", "hmac_nonzero": "5a" * 32},
    "amp_records": {"mpp_len_40": "28", "amp_len_68": "44", "keysend_len": "20"},
    # BOLT 2 / BOLT 4 message types, bLIP 4's accountable record, attribution_data's length.
    "wire": {**_POINTS, "msg_update_add_htlc": "0080", "msg_update_fulfill_htlc": "0082",
             "msg_update_fail_htlc": "0083", "msg_update_fail_malformed_htlc": "0087",
             "msg_onion_message": "0201", "type_accountable": "fe0001a147",
             "len_attribution_data": "fd0398", "badonion": "8000"},
    # BOLT 12 types (offer, invoice_request, invoice ranges; signature; experimental starts).
    "bolt12": {**_POINTS, **{f"b12_type_{t}": f"{t:02x}" for t in (
        0, 1, 3, 5, 2, 8, 10, 16, 22, 80, 82, 88, 89, 90, 91, 160, 162, 164, 168, 172, 176,
        240)}, "b12_exp_offer": "fe3b9aca00", "b12_exp_invreq": "fe77359400",
        "b12_exp_invoice": "feb2d05e00", "sciddir_0": "00", "sig_len": "40"},
    # The trampoline formats' records: the proposal's 20-22, Eclair's 66097-66102.
    "trampoline_payload": {**_POINTS, "type_20": "14", "type_21": "15", "type_22": "16",
                           **{f"type_{t}": f"fe{t:08x}" for t in range(66097, 66103)},
                           "len_33": "21", "len_onion_min": "42", "format_legacy": "01"},
    # Log prefixes (Core Lightning, lnd) and the message types, as text.
    "log": {name: text.encode().hex() for name, text in (
        ("cln_in", "[IN] "), ("cln_out", "[OUT] "), ("cln_ts", "2026-12-07T10:00:00.000Z "),
        ("cln_debug", "DEBUG   "), ("cln_peer_in", "peer_in"), ("cln_peer_out", "peer_out"),
        ("cln_sub", "-channeld-chan#1: "), ("lnd_ts", "2026-12-07 10:00:00.000 "),
        ("lnd_level", "[DBG] PEER: "), ("lnd_peer", "Peer("), ("lnd_received", "Received "),
        ("lnd_sending", "Sending "), ("hex_0x", "0x"), ("msg_add", "0080"),
        ("msg_fulfill", "0082"), ("msg_fail", "0083"), ("msg_malformed", "0087"),
        ("msg_onion", "0201"), ("newline", "\n"))},
}


def _render(tokens: dict[str, str]) -> str:
    lines = ["# libFuzzer dictionary, written by fuzz/make_corpus.py"]
    for name, hexstr in sorted(tokens.items()):
        escaped = "".join(f"\\x{b:02x}" for b in bytes.fromhex(hexstr))
        lines.append(f'{name}="{escaped}"')
    return "\n".join(lines) + "\n"


def tokens_for(target: str) -> dict[str, str]:
    return {**_COMMON, **_PAYMENT_TYPES, **_MESSAGE_TYPES, **_ENCRYPTED_DATA_TYPES, **_CUSTOM,
            **_FAILURES, **_EXTRA.get(target, {})}


def write_dicts(folder: Path, targets: tuple[str, ...], check: bool) -> list[str]:
    diffs = []
    for target in targets:
        path = folder / f"{target}.dict"
        text = _render(tokens_for(target))
        if not path.is_file() or path.read_text() != text:
            diffs.append(f"write dict/{target}.dict")
            if not check:
                folder.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
    return diffs
