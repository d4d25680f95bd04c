"""The trampoline values from the implementations' tests as a `sphinxamp-vectors/1` document.

No vector file exists for the legacy format (Eclair, Electrum: types 66097-66102): this
module holds, each under the test it comes from, Eclair's byte-exact trampoline packet
(SphinxSpec.scala "create trampoline payment packet", a 400-byte payload area) and payloads
(PaymentOnionSpec.scala), and LDK's payload encodings (lightning/src/ln/msgs.rs) where a second
source agrees: Eclair's trampoline packet is also LDK's
(encoding_final_onion_hop_data_with_eclair_trampoline_packet), and LDK's blinded trampoline
payloads are the proposal's.
"""

from __future__ import annotations

from _trampoline_cases import SCHEMA, Doc, build_case, peel_case, unframed

ECLAIR, ECLAIR_COMMIT = "ACINQ/eclair", "5b765e026b64631043fa9bbdde2151b6e9cc854b"
LDK, LDK_COMMIT = "lightningdevkit/rust-lightning", "cfee4b75593b5f676b998713fa60847311cfb270"

# Eclair SphinxSpec.scala, test "create trampoline payment packet": the five
# `trampolinePaymentPayloads` (with their BigSize length) sent to the BOLT 4 test keys 0x41…0x45
# with session key 0x41…, associated data 0x42…, a 400-byte payload area, and the packet.
ECLAIR_SPHINX_PAYLOADS = (
    (
        "2a02020231040190f8210324653eac434488002cc06bbfb7f10fe18991e35f9fe4302dbea6d2353dc0ab"
        "1c"),
    (
        "35fa33010000000000000000000000040000000000000000000000000ff0000000000000000000000000"
        "000000000000000000000000"),
    (
        "23f821032c0b7cf95324a07d05398b240174dc0c2be444d96b159aa6c7f7b1e668680991"),
    (
        "4003060303030303032b060000000000032d0200032f0a00000000000000000000311e00000000000000"
        "0000000000000000000000000000000000000000000000"),
    (
        "23f82102eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619"),
)
ECLAIR_NODE_IDS = (
    "02eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619",
    "0324653eac434488002cc06bbfb7f10fe18991e35f9fe4302dbea6d2353dc0ab1c",
    "027f31ebc5462c1fdce1b737ecff52d37d75dea43ce11c74d25aa297165faa2007",
    "032c0b7cf95324a07d05398b240174dc0c2be444d96b159aa6c7f7b1e668680991",
    "02edabbd16b41c8371b92ef2f04c1185b4f03b6dcd52ba9b78d9d7c89c8f221145",
)
ECLAIR_PACKET_400 = (
    "0002eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619cff34152f3a36e52"
    "ca94e74927203a560392b9cc7ce3c45809c6be52166c24a595716880f95f178bf5b30c8ca262744d656e"
    "4012980ec037cc7b35c9f43eb265ecc97974a598ff045cee0ecc99e303f3706509aa43ba7c8a88cba175"
    "fccf9a8f5016ef06d3b935dbb15196d7ce16dc1a7157845566901d7b2197e52cab4ce48701a2aa5a5249"
    "b5aed3b5b40bfefa9c40ab669d55e8a6b1058f02941bf119a7a69129db7c5f7eafaa166578c720619561"
    "dd14b3277db557ec7dcdb793771aef0f2f667cfdbe7e5b6eb3bd48bb0fbb30acc853fcdd7218ed9b6189"
    "816a7f41c5e0695f0471425951787e2ea8c5391cda7b0fe30c80913ef585234ce442808f7ef9425bcd81"
    "5c3ba9114a3d48735c6283a24743b94ce93cdc9a27670398d1ee83e68dbdd71c9f39f1d635804a45faa6"
    "9cfbbcb20a6d82b677ddd5b6cede1f2518dbc20f044f591fb6ea042838e7ff8514af58fc7c201ddbc6ca"
    "7c01c480f511870823384ca70e54da6006a8cb254cd68f5ab289b89c6ba512c064515c356ede847c3761"
    "76339f2c9921ecc29325e613593aa2ba4ad37970adee4b3ef8427cad4cf32a37ab1dbe0e539aef146ad6"
    "75cdfd96")
# Eclair PaymentOnionSpec.scala (tests named after each) and LDK msgs.rs.
PAYLOADS = {
    # "encode/decode node relay per-hop payload"
    "eclair_node_relay": (
        "2e0202023104012afe000102322102eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1"
        "f283686619"),
    # "encode/decode node relay to legacy per-hop payload"
    "eclair_to_legacy": (
        "fa0202023104012a0822eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619"
        "0451fe00010231010afe000102322102eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edce"
        "a1f283686619fe000102339b01036d6caac248af96f6afa7f904f550253a0f3ef3f5aa2fe6838a95b216"
        "691468e200000000000000010000000a00000064009002025f7117a78150fe2ef97db7cfc83bd57b2e2c"
        "0d0dd25eaf467a4a1c2a45ce148600000000000000020000001400000096000c02a051267759c3a149e3"
        "e72372f4e0c4054ba597ebfd0eda78a2273023667205ee00000000000000030000001e000000c80018"),
    # "encode/decode node relay to blinded paths per-hop payload"
    "eclair_to_blinded_paths": (
        "820202015504030c9c73fe0001023103020000fe000102366a0100000000000001d40232882c4982576e"
        "00f0d6bd4998f5b3e92d47ecc8fbad5b6a5e7521819d891d9e0103823aa560d631e9d7b686be4a9227e5"
        "77009afb5173023b458a6a6aff056ac9800000000003e8000002a60052000000000000012c0000000000"
        "3d09000000"),
    # "encode/decode final per-hop payload"
    "eclair_final_with_trampoline": (
        "fd02030202023104012a0820eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f28368"
        "6619fe00010234fd01d20002eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f28368"
        "6619cff34152f3a36e52ca94e74927203a560392b9cc7ce3c45809c6be52166c24a595716880f95f178b"
        "f5b30ca63141f74db6e92795c6130877cfdac3d4bd3087ee73c65d627ddd709112a848cc99e303f37065"
        "09aa43ba7c8a88cba175fccf9a8f5016ef06d3b935dbb15196d7ce16dc1a7157845566901d7b2197e52c"
        "ab4ce487014b14816e5805f9fcacb4f8f88b8ff176f1b94f6ce6b00bc43221130c17d20ef629db7c5f7e"
        "afaa166578c720619561dd14b3277db557ec7dcdb793771aef0f2f667cfdbeae3ac8d331c5994779dffb"
        "31e5fc0dbdedc0c592ca6d21c18e47fe3528d6975c19517d7e2ea8c5391cf17d0fe30c80913ed887234c"
        "cb48808f7ef9425bcd815c3b586210979e3bb286ef2851bf9ce04e28c40a203df98fd648d2f1936fd2f1"
        "def0e77eecb277229b4b682322371c0a1dbfcd723a991993df8cc1f2696b84b055b40a1792a29f710295"
        "a18fbd351b0f3ff34cd13941131b8278ba79303c89117120eea691738a9954908195143b039dbeed98f2"
        "6a92585f3d15cf742c953799d3272e0545e9b744be9d3b4cbb079bfc4b35190eee9f59a1d7b41ba2f773"
        "179f322dafb4b1af900c289ebd6c"),
    # encoding_outbound_trampoline_payload
    "ldk_recipient_blinded_paths": (
        "71020408f0d18004030c35001503020000165f032c0b7cf95324a07d05398b240174dc0c2be444d96b15"
        "9aa6c7f7b1e66868099102eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f2836866"
        "1900000001f4000003e800240000000000000001000000001dcd65000000"),
    # encode_trampoline_blinded_path_payload (Eve)
    "ldk_blinded_receive_eve": (
        "e4020408f0d18004030c35000ad1bcd747394fbd4d99588da075a623316e15a576df5bc785cccc7cd6ec"
        "7b398acce6faf520175f9ec920f2ef261cdb83dc28cc3a0eeb970107b3306489bf771ef5b1213bca811d"
        "345285405861d08a655b6c237fa247a8b4491beee20c878a60e9816492026d8feb9dafa84585b253978d"
        "b6a0aa2945df5ef445c61e801fb82f43d5f00716baf9fc9b3de50bc22950a36bda8fc27bfb1242e5860c"
        "7e687438d4133e058770361a19b6c271a2a07788d34dccc27e39b9829b061a4d960eac4a2c2b0f4de506"
        "c24f9af3868c0aff6dda27281c120408f0d180"),
    # encode_trampoline_blinded_path_payload (Dave)
    "ldk_blinded_forward_dave": (
        "690a440ccf3c8a58deaa603f657ee2a5ed9d604eb5c8ca1e5f801989afa8f3ea6d789bbdde2c7e7a1ef9"
        "ca8c38d2c54760febad8446d3f273ddb537569ef56613846ccd3aba78a0c2102988face71e92c345a068"
        "f740191fd8e53be14f0bb957ef730d3c5f76087b960e"),
    # encoding_final_onion_hop_data_with_eclair_trampoline_packet
    "ldk_eclair_packet": (
        "0002eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619cff34152f3a36e52"
        "ca94e74927203a560392b9cc7ce3c45809c6be52166c24a595716880f95f178bf5b30ca63141f74db6e9"
        "2795c6130877cfdac3d4bd3087ee73c65d627ddd709112a848cc99e303f3706509aa43ba7c8a88cba175"
        "fccf9a8f5016ef06d3b935dbb15196d7ce16dc1a7157845566901d7b2197e52cab4ce487014b14816e58"
        "05f9fcacb4f8f88b8ff176f1b94f6ce6b00bc43221130c17d20ef629db7c5f7eafaa166578c720619561"
        "dd14b3277db557ec7dcdb793771aef0f2f667cfdbeae3ac8d331c5994779dffb31e5fc0dbdedc0c592ca"
        "6d21c18e47fe3528d6975c19517d7e2ea8c5391cf17d0fe30c80913ed887234ccb48808f7ef9425bcd81"
        "5c3b586210979e3bb286ef2851bf9ce04e28c40a203df98fd648d2f1936fd2f1def0e77eecb277229b4b"
        "682322371c0a1dbfcd723a991993df8cc1f2696b84b055b40a1792a29f710295a18fbd351b0f3ff34cd1"
        "3941131b8278ba79303c89117120eea691738a9954908195143b039dbeed98f26a92585f3d15cf742c95"
        "3799d3272e0545e9b744be9d3b4cbb079bfc4b35190eee9f59a1d7b41ba2f773179f322dafb4b1af900c"
        "289ebd6c"),
}
NODE = "02eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619"
BOLT = "bolt"
LEGACY = "trampoline-legacy"


def _payload_case(ident: str, profile: str, payload: str, source: str, expect: Doc) -> Doc:
    return {"id": ident, "kind": "trampoline-payload", "profile": profile,
            "payload": unframed(payload), "from": source, "expect": expect}


def _packet_cases() -> list[Doc]:
    """Eclair's 400-byte trampoline packet: its build and the first hop's peel."""
    hops = [{"pubkey": node, "payload": unframed(p)}
            for node, p in zip(ECLAIR_NODE_IDS, ECLAIR_SPHINX_PAYLOADS, strict=True)]
    return [
        build_case("eclair-trampoline-packet-400", "41" * 32, hops, "42" * 32,
                   ECLAIR_PACKET_400, 400),
        peel_case("eclair-trampoline-packet-first-hop", "41" * 32, "42" * 32,
                  ECLAIR_PACKET_400,
                  {"final": False, "payload": unframed(ECLAIR_SPHINX_PAYLOADS[0])}, 400),
    ]


def _legacy_cases() -> list[Doc]:
    """Eclair's legacy trampoline payloads (PaymentOnionSpec.scala)."""
    spec = "PaymentOnionSpec.scala: encode/decode "
    return [
        _payload_case("eclair-node-relay", LEGACY, PAYLOADS["eclair_node_relay"],
                      spec + "node relay per-hop payload",
                      {"records": [[2, "amt_to_forward", BOLT],
                                   [4, "outgoing_cltv_value", BOLT],
                                   [66098, "outgoing_node_id", LEGACY]],
                       "action": "forward", "outgoing_node_id": NODE}),
        _payload_case("eclair-to-non-trampoline", LEGACY, PAYLOADS["eclair_to_legacy"],
                      spec + "node relay to legacy per-hop payload",
                      {"records": [[2, "amt_to_forward", BOLT],
                                   [4, "outgoing_cltv_value", BOLT],
                                   [8, "payment_data", BOLT],
                                   [66097, "invoice_features", LEGACY],
                                   [66098, "outgoing_node_id", LEGACY],
                                   [66099, "invoice_routing_info", LEGACY]],
                       "action": "pay_node", "outgoing_node_id": NODE,
                       "total_msat": 1105, "recipient_features": "0a"}),
        _payload_case("eclair-to-blinded-paths", LEGACY, PAYLOADS["eclair_to_blinded_paths"],
                      spec + "node relay to blinded paths per-hop payload",
                      {"records": [[2, "amt_to_forward", BOLT],
                                   [4, "outgoing_cltv_value", BOLT],
                                   [66097, "invoice_features", LEGACY],
                                   [66102, "outgoing_blinded_paths", LEGACY]],
                       "action": "pay_blinded_paths", "blinded_paths": 1,
                       "first_node_id": "0100000000000001d4"}),
        _payload_case("eclair-outer-with-trampoline-onion", LEGACY,
                      PAYLOADS["eclair_final_with_trampoline"],
                      spec + "final per-hop payload; its packet is LDK msgs.rs "
                      "encoding_final_onion_hop_data_with_eclair_trampoline_packet's",
                      {"records": [[2, "amt_to_forward", BOLT],
                                   [4, "outgoing_cltv_value", BOLT],
                                   [8, "payment_data", BOLT],
                                   [66100, "trampoline_onion_packet", LEGACY]],
                       "trampoline_onion_packet": PAYLOADS["ldk_eclair_packet"]}),
    ]


def _proposal_cases() -> list[Doc]:
    """LDK's encodings of the proposal's payloads (msgs.rs)."""
    same = "; the proposal's trampoline-to-blinded-path vector encodes the same bytes"
    return [
        _payload_case("ldk-recipient-blinded-paths", "trampoline",
                      PAYLOADS["ldk_recipient_blinded_paths"],
                      "msgs.rs: encoding_outbound_trampoline_payload",
                      {"records": [[2, "amt_to_forward", BOLT],
                                   [4, "outgoing_cltv_value", BOLT],
                                   [21, "recipient_features", "trampoline"],
                                   [22, "recipient_blinded_paths", "trampoline"]],
                       "action": "pay_blinded_paths", "blinded_paths": 1,
                       "recipient_features": "020000"}),
        _payload_case("ldk-blinded-receive", "trampoline", PAYLOADS["ldk_blinded_receive_eve"],
                      "msgs.rs: encode_trampoline_blinded_path_payload (Eve)" + same,
                      {"records": [[2, "amt_to_forward", BOLT],
                                   [4, "outgoing_cltv_value", BOLT],
                                   [10, "encrypted_recipient_data", BOLT],
                                   [18, "total_amount_msat", BOLT]]}),
        _payload_case("ldk-blinded-forward", "trampoline", PAYLOADS["ldk_blinded_forward_dave"],
                      "msgs.rs: encode_trampoline_blinded_path_payload (Dave)" + same,
                      {"records": [[10, "encrypted_recipient_data", BOLT],
                                   [12, "current_path_key", BOLT]]}),
    ]


def _source() -> Doc:
    return {"file": "generated", "repo": ECLAIR, "commit": ECLAIR_COMMIT,
            "path": "eclair-core/src/test/scala/fr/acinq/eclair/crypto/SphinxSpec.scala",
            "test": "create trampoline payment packet",
            "also": [{"repo": ECLAIR, "commit": ECLAIR_COMMIT,
                      "path": "eclair-core/src/test/scala/fr/acinq/eclair/wire/protocol/"
                              "PaymentOnionSpec.scala",
                      "used_for": "legacy trampoline payloads (66097-66102)"},
                     {"repo": LDK, "commit": LDK_COMMIT, "path": "lightning/src/ln/msgs.rs",
                      "used_for": "the proposal's payloads, and Eclair's packet"}],
            "section": None}


def implementations() -> Doc:
    """The legacy format from Eclair's tests, and LDK's payload encodings where another
    source (Eclair, or the proposal's vectors) agrees with them."""
    return {"schema": SCHEMA, "source": _source(),
            "description": "No file of vectors exists for the legacy format: Eclair's "
            "byte-exact trampoline packet (a 400-byte payload area) and payloads, LDK's "
            "payload encodings, each case naming the test it comes from; every payload here "
            "is also in a second source (LDK, Eclair or the proposal's vectors) except "
            "Eclair's legacy relay payloads, which Electrum's lnwire/onion_wire.csv types "
            "alike.", "cases": _packet_cases(),
            "trampoline_cases": _legacy_cases() + _proposal_cases()}
