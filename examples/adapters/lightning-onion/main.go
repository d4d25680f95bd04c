// A sphinxamp conformance adapter for lightning-onion (lnd's Sphinx package).
//
// Template: it speaks the protocol (one JSON request per line on stdin, one answer per line
// on stdout) for onion_build and onion_peel and answers every other op unsupported. Build it
// offline from local module folders with build.sh (go.mod pins the module versions of
// lightning-onion 98bd564), which writes lightning-onion-adapter next to this file:
//
//	examples/adapters/lightning-onion/build.sh
//	sphinxamp conformance run --adapter examples/adapters/lightning-onion/lightning-onion-adapter
//
// lightning-onion builds and peels 1300-byte payment onions only; other payload areas are
// answered unsupported. Each peel uses a fresh in-memory replay log, so the same onion can be
// asked twice.
package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/btcsuite/btcd/btcec/v2"
	sphinx "github.com/lightningnetwork/lightning-onion"
)

type request struct {
	ID             json.RawMessage `json:"id"`
	Op             string          `json:"op"`
	SessionKey     string          `json:"session_key"`
	AssociatedData string          `json:"associated_data"`
	PayloadArea    *int            `json:"payload_area"`
	Hops           []struct {
		Pubkey  string `json:"pubkey"`
		Payload string `json:"payload"`
	} `json:"hops"`
	Onion   string  `json:"onion"`
	NodeKey string  `json:"node_key"`
	PathKey *string `json:"path_key"`
}

type failure struct {
	FailureCode *int   `json:"failure_code"`
	TlvType     *int   `json:"tlv_type"`
	Offset      *int   `json:"offset"`
	Message     string `json:"message"`
}

func refuse(code int, err error) map[string]any {
	f := failure{Message: err.Error()}
	if code != 0 {
		f.FailureCode = &code
	}
	return map[string]any{"error": f}
}

func build(req *request) map[string]any {
	session, err := hex.DecodeString(req.SessionKey)
	if err != nil {
		return refuse(0, err)
	}
	key, _ := btcec.PrivKeyFromBytes(session)
	ad, err := hex.DecodeString(req.AssociatedData)
	if err != nil || len(req.Hops) > sphinx.NumMaxHops {
		return refuse(0, fmt.Errorf("bad associated data or too many hops"))
	}
	var path sphinx.PaymentPath
	for i, hop := range req.Hops {
		raw, err := hex.DecodeString(hop.Pubkey)
		if err != nil {
			return refuse(0, err)
		}
		pub, err := btcec.ParsePubKey(raw)
		if err != nil {
			return refuse(0, err)
		}
		payload, err := hex.DecodeString(hop.Payload)
		if err != nil {
			return refuse(0, err)
		}
		hp, err := sphinx.NewTLVHopPayload(payload)
		if err != nil {
			return refuse(0, err)
		}
		path[i] = sphinx.OnionHop{NodePub: *pub, HopPayload: hp}
	}
	packet, err := sphinx.NewOnionPacket(&path, key, ad, sphinx.DeterministicPacketFiller)
	if err != nil {
		return refuse(0, err)
	}
	var w bytes.Buffer
	if err := packet.Encode(&w); err != nil {
		return refuse(0, err)
	}
	return map[string]any{"onion": hex.EncodeToString(w.Bytes())}
}

// codeOf names the BOLT 4 failure code of lightning-onion's sentinel errors.
func codeOf(err error) int {
	switch {
	case errors.Is(err, sphinx.ErrInvalidOnionVersion):
		return 0xC004
	case errors.Is(err, sphinx.ErrInvalidOnionHMAC):
		return 0xC005
	case errors.Is(err, sphinx.ErrInvalidOnionKey):
		return 0xC006
	}
	return 0
}

func peel(req *request) map[string]any {
	raw, err := hex.DecodeString(req.Onion)
	if err != nil {
		return refuse(0, err)
	}
	var packet sphinx.OnionPacket
	if err := packet.Decode(bytes.NewReader(raw)); err != nil {
		return refuse(codeOf(err), err)
	}
	secret, err := hex.DecodeString(req.NodeKey)
	if err != nil {
		return refuse(0, err)
	}
	ad, _ := hex.DecodeString(req.AssociatedData)
	priv, _ := btcec.PrivKeyFromBytes(secret)
	router := sphinx.NewRouter(&sphinx.PrivKeyECDH{PrivKey: priv}, sphinx.NewMemoryReplayLog())
	if err := router.Start(); err != nil {
		return refuse(0, err)
	}
	defer router.Stop()
	opts := peelOptions()
	if req.PathKey != nil {
		pk, _ := hex.DecodeString(*req.PathKey)
		point, err := btcec.ParsePubKey(pk)
		if err != nil {
			return refuse(0xC018, err)
		}
		opts = append(opts, sphinx.WithBlindingPoint(point))
	}
	processed, err := router.ProcessOnionPacket(&packet, ad, 0, opts...)
	if err != nil {
		return refuse(codeOf(err), err)
	}
	out := map[string]any{"payload": hex.EncodeToString(processed.Payload.Payload),
		"next_onion": nil}
	if processed.Action == sphinx.MoreHops {
		var w bytes.Buffer
		if err := processed.NextPacket.Encode(&w); err != nil {
			return refuse(0, err)
		}
		out["next_onion"] = hex.EncodeToString(w.Bytes())
	}
	return out
}

func handle(req *request) map[string]any {
	if req.PayloadArea != nil && *req.PayloadArea != 1300 {
		return map[string]any{"unsupported": true}
	}
	switch req.Op {
	case "hello":
		return map[string]any{"protocol": "sphinxamp-conformance/1",
			"implementation": "lightning-onion", "ops": []string{"onion_build", "onion_peel"}}
	case "onion_build":
		return build(req)
	case "onion_peel":
		return peel(req)
	}
	return map[string]any{"unsupported": true}
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<26)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var req request
		answer := map[string]any{}
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			answer = refuse(0, err)
		} else {
			answer = handle(&req)
		}
		answer["id"] = req.ID
		_ = out.Encode(answer) // Encode writes one line and the adapter never buffers it
	}
}
